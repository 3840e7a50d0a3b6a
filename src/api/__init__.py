"""Entry points: the HTTP API (``/api/v1``), the public pages and the ``platforms`` command line.
They translate requests into :class:`aggregates.application.RegistryApp` commands and
read-model queries; :mod:`api.bootstrap` wires everything in one place."""
