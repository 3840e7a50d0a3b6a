"""The public lists as open data (开放数据), for newsrooms and citizens who follow them without
an API client: the publicity list (公示名单) and the subfield registry (细分领域) as CSV that opens
in a spreadsheet, and the publicity batches as an Atom 1.0 feed (RFC 4287) a feed reader polls.

Rendered from the JSON queries' own items (``projections.queries``), so the files say exactly
what ``GET /publicity-list`` and ``GET /subfields`` say; never an objector's identity (the read
model does not hold it).

CSV: UTF-8 with a BOM (Excel and WPS then read the Chinese headers), CRLF, every cell through
:mod:`projections.csv_cells` (a host unit named ``=HYPERLINK(…)`` stays text).
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any
from urllib.parse import quote
from uuid import NAMESPACE_URL, uuid5

from aggregates.clock import SHANGHAI
from projections.csv_cells import SpreadsheetCsvWriter

BOM = "\ufeff"
ATOM = "http://www.w3.org/2005/Atom"
ATOM_MEDIA_TYPE = "application/atom+xml; charset=utf-8"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
PUBLISHER = "长沙市科学技术局"

STATE_CN = {"open": "公示中", "upcoming": "未开始", "closed": "已结束"}
OUTCOME_CN = {"upheld": "异议成立，已撤销审定", "dismissed": "异议不成立，维持审定", "pending": "正在核实处理"}

PUBLICITY_HEADER = ["公示批次", "公示媒体", "发布日期", "公示开始日期", "公示截止日期", "工作日数", "公示状态",
                    "平台编号", "平台名称", "依托单位", "统一社会信用代码", "细分领域", "异议件数", "其中逾期件数",
                    "异议处理结果"]
SUBFIELD_HEADER = ["细分领域", "增补决定文号", "增补日期", "持有平台编号", "持有平台名称", "依托单位",
                   "统一社会信用代码", "平台状态", "例外持有平台"]


def _csv(header: list[str], rows: Iterable[list[Any]]) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = SpreadsheetCsvWriter(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def publicity_csv(batches: list[dict[str, Any]]) -> bytes:
    """One line per platform of each batch, in the list's order (newest batch first)."""
    def rows() -> Iterable[list[Any]]:
        for b in batches:
            head = [b["batch_ref"], b["media"], b.get("published_on"), b["first_day"] or b["start_date"],
                    b["end_date"] or "待定", b["working_days"], STATE_CN.get(b["state"], b["state"])]
            for p in b["platforms"]:
                yield [*head, p["id"], p["name"], p["host_unit"]["name"], p["host_unit"]["credit_code"],
                       p["subfield"], p["objections"], p["late_objections"], OUTCOME_CN.get(p["outcome"] or "", "")]

    return _csv(PUBLICITY_HEADER, rows())


def subfields_csv(items: list[dict[str, Any]]) -> bytes:
    """One line per subfield (Art. 4), with its holder (Art. 5) and those holding it by exception."""
    def rows() -> Iterable[list[Any]]:
        for s in items:
            admission, holder = s["admission"] or {}, s["holder"] or {}
            unit = holder.get("host_unit") or {}
            yield [s["name"], admission.get("document_ref"), admission.get("admitted_on"), holder.get("id"),
                   holder.get("name"), unit.get("name"), unit.get("credit_code"), holder.get("status"),
                   "；".join(str(e["name"] or e["id"]) for e in s["exception_holders"])]

    return _csv(SUBFIELD_HEADER, rows())


def _instant(day: str | None, fallback: date) -> str:
    """A business date as the RFC 3339 instant its day begins in Asia/Shanghai."""
    d = date.fromisoformat(day) if day else fallback
    return datetime.combine(d, time(0), SHANGHAI).isoformat()


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def batch_summary(b: dict[str, Any]) -> str:
    """What a reader sees of one batch: its window, state, and each platform with its objections."""
    window = (f"公示期 {b['first_day']} 至 {b['end_date']}（{b['working_days']} 个工作日）" if b["end_date"]
              else f"公示期自 {b['first_day'] or b['start_date']} 起 {b['working_days']} 个工作日（截止日待定）")
    lines = [f"{window}，{STATE_CN.get(b['state'], b['state'])}。公示媒体：{b['media']}。"]
    for p in b["platforms"]:
        objections = f"收到异议 {p['objections']} 件" if p["objections"] else "无异议"
        outcome = OUTCOME_CN.get(p["outcome"] or "")
        lines.append(f"{p['name']}（依托单位：{p['host_unit']['name']}；细分领域：{p['subfield']}；{objections}"
                     + (f"，{outcome}" if outcome else "") + "）")
    return "\n".join(lines)


def publicity_atom(batches: list[dict[str, Any]], site: str, today: date) -> bytes:
    """The latest publicity batches as an Atom 1.0 feed; ``site`` is the public site's base URL
    (``https://host/``). Ids are ``urn:uuid`` names of the batch references, so they stay the
    same whatever address the feed is read at; each entry links to the batch's public page."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": "zh-CN"})
    _sub(feed, "id", uuid5(NAMESPACE_URL, "platform-registry:publicity-feed").urn)
    _sub(feed, "title", "长沙市新一代人工智能开放创新平台认定 · 拟认定平台公示名单")
    _sub(feed, "subtitle", "依据《长沙市新一代人工智能开放创新平台认定管理暂行办法》（长科发〔2021〕36号）"
                           "第八条公示的批次")
    updated = max((_instant(b.get("published_on"), today) for b in batches), default=_instant(None, today))
    _sub(feed, "updated", updated)
    author = _sub(feed, "author")
    _sub(author, "name", PUBLISHER)
    _sub(feed, "link", rel="self", type="application/atom+xml", href=f"{site}api/v1/publicity-list.atom")
    _sub(feed, "link", rel="alternate", type="text/html", href=site)
    for b in batches:
        entry = _sub(feed, "entry")
        _sub(entry, "id", uuid5(NAMESPACE_URL, f"platform-registry:publicity-batch:{b['batch_ref']}").urn)
        _sub(entry, "title", f"{b['batch_ref']}：{len(b['platforms'])} 个拟认定平台公示")
        published = _instant(b.get("published_on") or b["start_date"], today)
        _sub(entry, "published", published)
        _sub(entry, "updated", published)
        _sub(entry, "link", rel="alternate", type="text/html", href=f"{site}publicity/{quote(b['batch_ref'], safe='')}")
        for subfield in dict.fromkeys(p["subfield"] for p in b["platforms"]):
            _sub(entry, "category", term=subfield)
        _sub(entry, "summary", batch_summary(b), type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


__all__ = ["publicity_csv", "subfields_csv", "publicity_atom", "ATOM", "ATOM_MEDIA_TYPE", "CSV_MEDIA_TYPE",
           "PUBLICITY_HEADER", "SUBFIELD_HEADER"]
