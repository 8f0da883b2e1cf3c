"""The Grafana dashboard of the four golden signals loads as a Grafana dashboard: a JSON Schema written from
Grafana's documented dashboard JSON model (schemaVersion 39; no schema ships in a package we can install, and the
tests reach no network), plus what a schema cannot say (the grid, ids, variables, one row per signal)."""

from __future__ import annotations

import json
import re

import jsonschema

from tests.deploy.conftest import ROOT

DASHBOARD = ROOT / "deploy" / "observability" / "grafana" / "dashboards" / "golden-signals.json"
PANEL_TYPES = ["row", "timeseries", "stat", "gauge", "bargauge", "table", "text", "heatmap", "piechart", "logs"]
UNITS = ["short", "reqps", "percentunit", "percent", "s", "ms", "bytes", "none"]

DATASOURCE = {
    "type": "object",
    "required": ["type", "uid"],
    "properties": {"type": {"type": "string"}, "uid": {"type": "string"}},
    "additionalProperties": False,
}
GRID_POS = {
    "type": "object",
    "required": ["h", "w", "x", "y"],
    "properties": {
        "h": {"type": "integer", "minimum": 1},
        "w": {"type": "integer", "minimum": 1, "maximum": 24},
        "x": {"type": "integer", "minimum": 0, "maximum": 23},
        "y": {"type": "integer", "minimum": 0},
    },
    "additionalProperties": False,
}
TARGET = {
    "type": "object",
    "required": ["refId", "expr"],
    "properties": {
        "refId": {"type": "string", "pattern": "^[A-Z]$"},
        "expr": {"type": "string", "minLength": 1},
        "legendFormat": {"type": "string"},
        "datasource": DATASOURCE,
        "instant": {"type": "boolean"},
        "range": {"type": "boolean"},
    },
    "additionalProperties": False,
}
PANEL = {
    "type": "object",
    "required": ["id", "type", "title", "gridPos"],
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "type": {"enum": PANEL_TYPES},
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "gridPos": GRID_POS,
        "datasource": DATASOURCE,
        "targets": {"type": "array", "items": TARGET, "minItems": 1},
        "fieldConfig": {
            "type": "object",
            "required": ["defaults", "overrides"],
            "properties": {
                "defaults": {
                    "type": "object",
                    "properties": {"unit": {"enum": UNITS}, "min": {"type": "number"}, "max": {"type": "number"}},
                },
                "overrides": {"type": "array"},
            },
        },
        "options": {"type": "object"},
        "collapsed": {"type": "boolean"},
        "panels": {"type": "array"},
    },
    "additionalProperties": False,
    "if": {"properties": {"type": {"const": "row"}}},
    "then": {"required": ["collapsed", "panels"]},
    "else": {"required": ["datasource", "targets", "fieldConfig"]},
}
VARIABLE = {
    "type": "object",
    "required": ["name", "type"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-zA-Z_][a-zA-Z0-9_]*$"},
        "type": {"enum": ["query", "datasource", "custom", "constant", "interval", "textbox", "adhoc"]},
        "label": {"type": "string"},
        "query": {},
        "definition": {"type": "string"},
        "datasource": DATASOURCE,
        "current": {"type": "object"},
        "options": {"type": "array"},
        "hide": {"enum": [0, 1, 2]},
        "refresh": {"enum": [0, 1, 2]},
        "regex": {"type": "string"},
        "sort": {"type": "integer"},
        "includeAll": {"type": "boolean"},
        "multi": {"type": "boolean"},
        "allValue": {"type": "string"},
    },
    "additionalProperties": False,
}
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["uid", "title", "schemaVersion", "panels", "time", "templating", "annotations"],
    "properties": {
        "id": {"type": ["integer", "null"]},
        "uid": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,40}$"},
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "style": {"enum": ["light", "dark"]},
        "timezone": {"type": "string"},
        "editable": {"type": "boolean"},
        "graphTooltip": {"enum": [0, 1, 2]},
        "time": {
            "type": "object",
            "required": ["from", "to"],
            "properties": {"from": {"type": "string"}, "to": {"type": "string"}},
            "additionalProperties": False,
        },
        "timepicker": {"type": "object"},
        "fiscalYearStartMonth": {"type": "integer", "minimum": 0, "maximum": 11},
        "liveNow": {"type": "boolean"},
        "weekStart": {"type": "string"},
        "refresh": {"type": "string", "pattern": "^([0-9]+[smhd])?$"},
        "schemaVersion": {"type": "integer", "minimum": 36},
        "version": {"type": "integer"},
        "links": {"type": "array"},
        "panels": {"type": "array", "items": PANEL, "minItems": 1},
        "templating": {
            "type": "object",
            "required": ["list"],
            "properties": {"list": {"type": "array", "items": VARIABLE}},
            "additionalProperties": False,
        },
        "annotations": {
            "type": "object",
            "required": ["list"],
            "properties": {"list": {"type": "array", "items": {"type": "object"}}},
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def graphs(board: dict) -> list[dict]:
    return [panel for panel in board["panels"] if panel["type"] != "row"]


def test_the_dashboard_validates_against_grafanas_dashboard_model() -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(dashboard())]
    assert not errors


def test_panels_have_unique_ids_stay_within_the_24_columns_and_never_overlap() -> None:
    board = dashboard()
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        mine = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])}
        assert not cells & mine, f"{panel['title']} overlaps another panel"
        cells |= mine
        refs = [target["refId"] for target in panel.get("targets", [])]
        assert len(refs) == len(set(refs)), panel["title"]


def test_every_query_uses_the_dashboards_data_source_and_only_variables_it_defines() -> None:
    board = dashboard()
    variables = {variable["name"] for variable in board["templating"]["list"]} | {"__rate_interval", "__interval"}
    for panel in graphs(board):
        for ref in (panel["datasource"], *(target["datasource"] for target in panel["targets"])):
            assert ref == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        for target in panel["targets"]:
            used = set(re.findall(r"\$\{?(\w+)", target["expr"]))
            assert used <= variables, f"{panel['title']}: {used - variables}"


def test_there_is_a_row_for_each_golden_signal_and_its_panels_are_per_route() -> None:
    board = dashboard()
    rows = [panel["title"].split(":")[0] for panel in board["panels"] if panel["type"] == "row"]
    assert rows == ["Traffic", "Errors", "Latency", "Saturation"]
    for panel in graphs(board):
        for target in panel["targets"]:
            expr = target["expr"]
            # per route: by gRPC method (each REST route is one) or by the upstream Envoy called
            assert re.search(r"by \((grpc_service, )?grpc_method|by \(envoy_|by \(job, pool\)", expr), expr
