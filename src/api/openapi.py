"""The OpenAPI document (``/openapi.json``) as client generators, Spectral and readers want it.

FastAPI derives the paths, bodies and responses from the routes; this module adds what it cannot
know:

- **Short operation ids** (``applyPlatform``, ``fileObjection``): a generated client names its
  methods after them, and FastAPI's own (``apply_api_v1_platforms_post``) make unusable names.
  :data:`OPERATIONS` gives each route's id by its function's name, so no decorator repeats it;
  a new route of the JSON API without an entry stops the application at start-up
  (:func:`operation_id`), not in a client months later.
- **A tag by stage, the roles beside it**: an operation's one tag is the stage of the procedure it
  belongs to (the docs pages and a generated client group by it); ``x-roles`` names the roles
  that may call it, read off the route's own role check (``require_roles``), so the document
  cannot disagree with what the API enforces. The roles are not tags: Swagger UI and ReDoc list
  an operation once under each of its tags, and the bureau's dozens of acts would each show up
  two to six times.
- **Optional authentication where the route is public**: a public route that also knows a
  signed-in caller (filing an objection: the bureau records a paper one) declares ``security``
  as "none or a bearer token"; a public route with no token at all declares none.
- **Every error as it is sent**: each operation documents the problem+json answers its own
  shape implies (401 and 403 where a role is required, 404 for an id in the path, 400, 413 and
  422 for a body, 422 for parameters) beside those its route declares; FastAPI's own
  ``HTTPValidationError`` schema, which this API never sends, is replaced by the problem schema.
  Each status's answer is one shared response (``#/components/responses/Conflict`` ...) that
  lists the problem codes of that status (:mod:`api.problem_catalogue`).
- **Examples as written**: FastAPI leaves null members out of the document it serves, which
  would cut ``"end_reason": null`` out of a platform's example and make it invalid against its
  own schema; each model's whole examples are put back as the model gives them.
- The document's servers, contact and tag descriptions (Chinese first, as readers at the
  bureau read them).
"""

from __future__ import annotations

from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_flat_params
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel

from . import audit_schemas, schemas
from .deps import public_or_principal
from .errors import problem_responses
from .problem_catalogue import CATALOGUE
from .schemas import Problem

SECURITY_SCHEME = "OAuth2PasswordBearer"
# FastAPI's schema of its own 422 body, which the problem handler (api.errors) replaces.
VALIDATION_ERROR = "#/components/schemas/HTTPValidationError"

# The stages of the procedure (长科发〔2021〕36号), in its order, as the document's first tags.
STAGES: tuple[tuple[str, str], ...] = (
    ("authentication", "登录 Sign in: a bearer token for the other operations (OAuth2 password flow)."),
    ("application", "申请与受理 Application and formal review (Art. 6, Art. 8(1)-(2)); withdrawal."),
    ("review", "评审与考察 Expert scoring, on-site inspection and approval (Art. 8(3)-(5))."),
    ("publicity", "公示与异议 Publicity for five working days, objections and their resolution (Art. 8(6))."),
    ("establishment", "立项与建设 Notice, task book, major changes and the high-tech certificate "
                      "(Art. 8(7), Art. 9, Art. 11)."),
    ("acceptance", "验收与认定 Acceptance application and review, recognition, termination (Art. 7, Art. 9)."),
    ("funding", "资金 Funding, recovery and the funding ledger (Art. 10, Art. 13)."),
    ("revocation", "撤销 Revocation of a recognition (Art. 13)."),
    ("registry", "平台与领域 Platforms, their history and deadlines, subfields (Art. 4, Art. 5) and the "
                 "policy versions (Art. 15)."),
    ("imports", "档案导入 Import of a past programme from its paper archive."),
    ("audit", "审计 The event log, its verification, signed checkpoints, proofs and the export."),
    ("operations", "运维 Liveness and readiness for the load balancer and the operators."),
)

# Each JSON route's operation id and stage, by the name of its function.
OPERATIONS: dict[str, tuple[str, str]] = {
    # authentication
    "token": ("signIn", "authentication"),
    # application
    "apply": ("applyPlatform", "application"),
    "intake": ("reviewIntake", "application"),
    "withdrawal": ("withdrawApplication", "application"),
    # review
    "score": ("scorePlatform", "review"),
    "score_sheets": ("recordScoreSheets", "review"),
    "inspection": ("inspectPlatform", "review"),
    "approval": ("approvePlatform", "review"),
    # publicity
    "publicize": ("publicizeBatch", "publicity"),
    "publicity_list": ("listPublicity", "publicity"),
    "publicity_list_csv": ("getPublicityListCsv", "publicity"),
    "publicity_list_atom": ("getPublicityFeed", "publicity"),
    "objection": ("fileObjection", "publicity"),
    "resolution": ("resolveObjection", "publicity"),
    # establishment
    "notice": ("issueNotice", "establishment"),
    "task_book": ("signTaskBook", "establishment"),
    "major_change": ("requestMajorChange", "establishment"),
    "change_decision": ("decideMajorChange", "establishment"),
    "certificate": ("renewHighTechCertificate", "establishment"),
    # acceptance
    "acceptance_application": ("applyForAcceptance", "acceptance"),
    "acceptance_review": ("reviewAcceptance", "acceptance"),
    "late_acceptance_admission": ("admitLateAcceptance", "acceptance"),
    "recognition": ("recognizePlatform", "acceptance"),
    "termination": ("terminatePlatform", "acceptance"),
    # funding
    "funding": ("fundPlatform", "funding"),
    "recovery": ("recoverFunding", "funding"),
    "funding_ledger": ("getFundingLedger", "funding"),
    "funding_ledger_csv": ("getFundingLedgerCsv", "funding"),
    "funding_ledger_by_year": ("getFundingLedgerByYear", "funding"),
    "funding_ledger_by_year_csv": ("getFundingLedgerByYearCsv", "funding"),
    "funding_ledger_by_year_xlsx": ("getFundingLedgerByYearXlsx", "funding"),
    # revocation
    "revocation": ("revokeRecognition", "revocation"),
    # registry
    "list_platforms": ("listPlatforms", "registry"),
    "get_platform": ("getPlatform", "registry"),
    "platform_history": ("getPlatformHistory", "registry"),
    "deadlines": ("listDeadlines", "registry"),
    "subfields": ("listSubfields", "registry"),
    "subfields_csv_route": ("getSubfieldsCsv", "registry"),
    "admit_subfield": ("admitSubfield", "registry"),
    "policies": ("listPolicies", "registry"),
    # imports
    "import_programme": ("importArchive", "imports"),
    # audit
    "audit_log": ("getAuditLog", "audit"),
    "audit_verify": ("verifyLog", "audit"),
    "audit_checkpoint": ("getLatestCheckpoint", "audit"),
    "audit_checkpoints": ("listCheckpoints", "audit"),
    "audit_sign": ("signCheckpoint", "audit"),
    "audit_cosign": ("cosignCheckpoint", "audit"),
    "audit_inclusion": ("getInclusionProof", "audit"),
    "audit_consistency": ("getConsistencyProof", "audit"),
    "platform_diff": ("diffPlatformVersions", "audit"),
    "publicity_at": ("getPublicityListAt", "audit"),
    "ledger_at": ("getFundingLedgerAt", "audit"),
    "audit_export": ("exportLog", "audit"),
    # operations
    "healthz": ("getHealth", "operations"),
    "readyz": ("getReadiness", "operations"),
}


class UndocumentedRoute(LookupError):
    """A route of the JSON API that :data:`OPERATIONS` does not name."""


def operation_id(route: APIRoute) -> str:
    """The route's short operation id (FastAPI's ``generate_unique_id_function``). Routes left out
    of the document (pages, the docs themselves) keep FastAPI's own, which nobody sees."""
    if not route.include_in_schema:
        return f"{route.name}_{'_'.join(sorted(route.methods or ()))}".lower()
    try:
        return OPERATIONS[route.name][0]
    except KeyError:
        raise UndocumentedRoute(
            f"the route {sorted(route.methods or ())} {route.path} ({route.name}) has no operation id: "
            "add it to api.openapi.OPERATIONS") from None


def _dependencies(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _dependencies(sub)


def _access(route: RouteContext) -> tuple[list[str], bool]:
    """The roles the route admits (``["public"]`` when anyone may call it) and whether it reads a
    token at all."""
    calls = list(_dependencies(route.dependant))
    roles = sorted({role.value for call in calls for role in getattr(call, "roles", ())})
    if roles:
        return roles, True
    return ["public"], public_or_principal in calls


def _implied_errors(route: RouteContext, roles: list[str]) -> set[int]:
    """The error statuses the route's shape implies, whatever its handler does."""
    statuses: set[int] = set()
    if roles != ["public"]:
        statuses |= {401, 403}
    params = [p for p in get_flat_params(route.dependant) if getattr(p.field_info, "include_in_schema", True)]
    if route.dependant.path_params:
        statuses.add(404)
    if route.body_field is not None:
        statuses |= {400, 413, 422}
    if params:
        statuses.add(422)
    return statuses


def _status_responses(statuses: set[int]) -> dict[str, Any]:
    """One shared response per error status that an operation answers (``components/responses``),
    each listing the problem codes the catalogue gives that status, with the page that explains
    each."""
    responses: dict[str, Any] = {}
    for status in sorted(statuses):
        problem = problem_responses(status)[status]
        codes = sorted(code for code, entry in CATALOGUE.items() if entry.status == status)
        listed = ", ".join(f"`{code}`" for code in codes)
        problem["description"] += (f". `code` is one of: {listed} (each explained at `/problems/{{code}}`)."
                                   if codes else ".")
        responses[_response_name(status)] = problem
    return responses


def _response_name(status: int) -> str:
    """``Conflict`` for 409: the component's name, after the status's reason phrase."""
    return "".join(word.capitalize() for word in HTTPStatus(status).phrase.replace("-", " ").split())


def _document_errors(operation: dict[str, Any], statuses: set[int]) -> set[int]:
    """The operation's error answers: those its route describes in its own words stay; the
    others refer to the shared response of their status (whose statuses are returned)."""
    shared: set[int] = set()
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for implied in statuses:
        responses.setdefault(str(implied), {})
    for key, response in list(responses.items()):
        if not key.startswith(("4", "5")):
            continue
        status = int(key)
        generic = problem_responses(status)[status]["description"]
        if not response or VALIDATION_ERROR in str(response.get("content", {})) \
                or response.get("description") == generic:
            responses[key] = {"$ref": f"#/components/responses/{_response_name(status)}"}
            shared.add(status)
    return shared


def _restore_examples(components: dict[str, Any]) -> None:
    """Each documented model's whole examples, nulls included (see the module docstring)."""
    for module in (schemas, audit_schemas):
        for model in vars(module).values():
            if not (isinstance(model, type) and issubclass(model, BaseModel)) or model.__name__ not in components:
                continue
            extra = model.model_config.get("json_schema_extra")
            if isinstance(extra, dict) and "examples" in extra:
                components[model.__name__]["examples"] = extra["examples"]


def document(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of ``app``: FastAPI's, with the additions of the module docstring."""
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes,
        tags=[{"name": name, "description": text} for name, text in STAGES],
        servers=[{"url": "/", "description": "本服务 This server (the paths carry /api/v1)"}],
        contact={"name": "长沙市科学技术局 Changsha Municipal Science and Technology Bureau",
                 "url": "https://kjj.changsha.gov.cn/"},
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    shared: set[int] = set()
    # Routers are included lazily (FastAPI keeps them as branches of app.routes): walk the
    # routes as FastAPI's own document generator does.
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        stage = OPERATIONS[str(route.name)][1]
        roles, reads_token = _access(route)
        for method in route.methods or ():
            operation = schema["paths"][route.path_format][method.lower()]
            operation["tags"] = [stage]
            operation["x-roles"] = roles
            shared |= _document_errors(operation, _implied_errors(route, roles))
            if roles == ["public"]:
                if reads_token:
                    operation["security"] = [{}, {SECURITY_SCHEME: []}]
                else:
                    operation.pop("security", None)
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    _restore_examples(components)
    schema["components"]["responses"] = _status_responses(shared)
    return schema


__all__ = ["OPERATIONS", "STAGES", "UndocumentedRoute", "document", "operation_id"]
