# SPDX-License-Identifier: BSD-3-Clause
"""sluicectl deployment group create|validate|what-if|show|list|delete
(docs/sluicectl.md, "Template deployments").

The first part needs no sluiced: sluicectl loaded as a module, its parsing of
--parameters (files with and without the deploymentParameters wrapper,
inline JSON, KEY=VALUE typed by the template, precedence), its what-if text
for a known answer, and the requests it sends (a recording client in place
of the socket). The second part runs sluicectl as a program against one
sluiced: every subcommand, every --parameters form, what-if's Create, Modify,
Delete, NoChange and Ignore, the table and JSON outputs, the errors, Complete
mode, and --confirm-with-what-if on a terminal.
"""
import json
import os
import re
import subprocess

import pytest

import clihelpers as h

ctl = h.load_sluicectl("sluicectl_deployment")

TEMPLATE = os.path.join(h.ROOT, "examples", "templates", "lb-basic.json")
PARAMS = os.path.join(h.ROOT, "examples", "templates", "lb-basic.parameters.json")
SCOPE = f"/subscriptions/{h.SUB}/resourceGroups/rg"

TYPED_TEMPLATE = {"parameters": {
    "count": {"type": "int"}, "on": {"type": "bool"}, "names": {"type": "array"},
    "tags": {"type": "object"}, "label": {"type": "string"}, "secret": {"type": "securestring"},
    "blob": {"type": "secureObject"}}}


# --------------------------------------------------------------------------
# Without sluiced: --parameters
# --------------------------------------------------------------------------

def test_parameters_file_with_and_without_the_wrapper(tmp_path):
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
                   "deploymentParameters.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"label": {"value": "a"}, "count": {"value": 3}}}))
    bare = tmp_path / "bare.json"
    bare.write_text('{"label": {"value": "b"}}')
    assert ctl.parse_parameters([[f"@{wrapped}"]], TYPED_TEMPLATE) == {
        "label": {"value": "a"}, "count": {"value": 3}}
    assert ctl.parse_parameters([[f"@{bare}"]], TYPED_TEMPLATE) == {"label": {"value": "b"}}
    # a path without '@' is read too (az reads an existing file), and later ones win
    assert ctl.parse_parameters([[f"@{wrapped}", str(bare)]], TYPED_TEMPLATE) == {
        "label": {"value": "b"}, "count": {"value": 3}}


def test_parameters_file_with_comments(tmp_path):
    f = tmp_path / "c.json"
    f.write_text('{\n  // the label\n  "label": {"value": "x // not a comment"}, /* more */\n'
                 '  "count": {"value": 1}\n}\n')
    assert ctl.parse_parameters([[f"@{f}"]], TYPED_TEMPLATE) == {
        "label": {"value": "x // not a comment"}, "count": {"value": 1}}


def test_parameters_inline_json():
    text = '{"label": {"value": "i"}, "names": {"value": ["a", "b"]}}'
    assert ctl.parse_parameters([[text]], TYPED_TEMPLATE) == {
        "label": {"value": "i"}, "names": {"value": ["a", "b"]}}
    wrapped = json.dumps({"contentVersion": "1.0.0.0", "parameters": {"count": {"value": 2}}})
    assert ctl.parse_parameters([[wrapped]], TYPED_TEMPLATE) == {"count": {"value": 2}}


def test_parameters_key_value_typed_by_the_template():
    items = ["count=8080", "on=True", "names=[\"a\", 1]", 'tags={"k": "v"}', "label=8080",
             "secret=p=q", 'blob={"x": [1]}']
    assert ctl.parse_parameters([items], TYPED_TEMPLATE) == {
        "count": {"value": 8080}, "on": {"value": True}, "names": {"value": ["a", 1]},
        "tags": {"value": {"k": "v"}}, "label": {"value": "8080"}, "secret": {"value": "p=q"},
        "blob": {"value": {"x": [1]}}}
    # az's bool: anything but "true" (any case) is false
    assert ctl.parse_parameters([["on=yes"]], TYPED_TEMPLATE) == {"on": {"value": False}}


def test_parameters_precedence_later_wins_and_names_are_the_templates(tmp_path):
    f = tmp_path / "p.json"
    f.write_text('{"parameters": {"COUNT": {"value": 1}, "label": {"value": "file"}}}')
    got = ctl.parse_parameters([[f"@{f}", "count=2"], ['{"Label": {"value": "json"}}'],
                                ["label=last"]], TYPED_TEMPLATE)
    assert got == {"count": {"value": 2}, "label": {"value": "last"}}
    got = ctl.parse_parameters([["count=2"], [f"@{f}"]], TYPED_TEMPLATE)
    assert got == {"count": {"value": 1}, "label": {"value": "file"}}


def test_parameter_untyped_is_a_string_with_a_warning(capsys):
    assert ctl.parse_parameters([["x=5"]], {"parameters": {"x": {}}}) == {"x": {"value": "5"}}
    assert "Unrecognized type '' for parameter 'x'" in capsys.readouterr().err


@pytest.mark.parametrize("item, status, message", [
    ("nope=1", 2, "unrecognized template parameter 'nope'. Allowed parameters: blob, count, "
                  "label, names, on, secret, tags"),
    ("count=ten", 2, "Parameter 'count' is of type int: 'ten' is not an integer."),
    ("names=[1,", 2, "Parameter 'names' is of type array: '[1,' is not JSON"),
    ("justaword", 2, "Unable to parse parameter: justaword"),
    ('{"label": ', 2, 'Unable to parse parameter: {"label": : Expecting value'),
    ("@/nonexistent/p.json", 1, "Cannot read the parameters file '/nonexistent/p.json'"),
])
def test_parameter_errors(item, status, message):
    with pytest.raises(ctl.CliError) as e:
        ctl.parse_parameters([[item]], TYPED_TEMPLATE)
    assert e.value.status == status
    assert e.value.message.startswith(message), e.value.message


def test_parameters_file_not_json_names_the_place(tmp_path):
    f = tmp_path / "bad.json"
    f.write_text('{\n  "label": {"value": "a"}\n  "count": {"value": 1}\n}\n')
    with pytest.raises(ctl.CliError) as e:
        ctl.parse_parameters([[f"@{f}"]], TYPED_TEMPLATE)
    assert e.value.message == (f"Failed to parse the parameters file '{f}', please check "
                               "whether it is a valid JSON format: Expecting ',' delimiter: "
                               "line 3 column 3 (char 30).")


# --------------------------------------------------------------------------
# Without sluiced: the what-if text
# --------------------------------------------------------------------------

NET = SCOPE + "/providers/Microsoft.Network/"
WHAT_IF = {"status": "Succeeded", "properties": {"changes": [
    {"resourceId": NET + "loadBalancers/lb2", "changeType": "Modify",
     "before": {}, "after": {}, "delta": [
         {"path": "properties.probes", "propertyChangeType": "Array", "children": [
             {"path": "0", "propertyChangeType": "Modify", "before": {"name": "p"},
              "after": {"name": "p"}, "children": [
                  {"path": "properties.port", "propertyChangeType": "Modify", "before": 80,
                   "after": 8080}]},
             {"path": "1", "propertyChangeType": "Create",
              "after": {"name": "q", "properties": {"port": 22}}}]},
         {"path": "sku.name", "propertyChangeType": "Modify", "before": "Basic",
          "after": "Standard"},
         {"path": "tags", "propertyChangeType": "Create", "after": {"env": "x"}},
         {"path": "properties.idleTimeoutInMinutes", "propertyChangeType": "Delete",
          "before": 4},
         {"path": "location", "propertyChangeType": "Create", "after": "here"}]},
    {"resourceId": NET + "virtualNetworks/v1", "changeType": "NoChange", "delta": []},
    {"resourceId": NET + "virtualNetworks/v0", "changeType": "Ignore"},
    {"resourceId": NET + "loadBalancers/new", "changeType": "Create",
     "after": {"name": "new", "apiVersion": "2020-05-01", "properties": {
         "frontendIPConfigurations": [{"name": "fe", "properties": {
             "privateIPAddress": "10.0.0.1"}}], "ports": [1, 2]},
         "type": "Microsoft.Network/loadBalancers"}},
    {"resourceId": NET + "loadBalancers/old", "changeType": "Delete",
     "before": {"name": "old", "enabled": True, "none": None}},
    {"resourceId": SCOPE + "/providers/Microsoft.Storage/storageAccounts/s",
     "changeType": "Unsupported", "unsupportedReason": "sluice does not model it."},
]}}

WHAT_IF_TEXT = f"""\
Resource and property changes are indicated with these symbols:
  - Delete
  + Create
  ~ Modify
  = Nochange
  x Unsupported
  * Ignore

The deployment will update the following scope:

Scope: {SCOPE}

  - Microsoft.Network/loadBalancers/old

      name:    "old"
      enabled: true
      none:    null

  + Microsoft.Network/loadBalancers/new [2020-05-01]

      name:        "new"
      apiVersion:  "2020-05-01"
      properties.frontendIPConfigurations: [
        0:

          name:                        "fe"
          properties.privateIPAddress: "10.0.0.1"

      ]
      properties.ports: [
        0: 1
        1: 2
      ]
      type:        "Microsoft.Network/loadBalancers"

  ~ Microsoft.Network/loadBalancers/lb2
    - properties.idleTimeoutInMinutes: 4
    + location:                        "here"
    + tags:

        env: "x"

    ~ properties.probes: [
      ~ 0:

        ~ properties.port: 80 => 8080

      + 1:

          name:            "q"
          properties.port: 22

      ]
    ~ sku.name:                        "Basic" => "Standard"

  = Microsoft.Network/virtualNetworks/v1
  x Microsoft.Storage/storageAccounts/s
  * Microsoft.Network/virtualNetworks/v0

Resource changes: 1 to delete, 1 to create, 1 to modify, 1 no change, 1 unsupported, \
1 to ignore.

Diagnostics (1):
Microsoft.Storage/storageAccounts/s (Unsupported) sluice does not model it."""


def test_what_if_text():
    """az's layout: the legend of the kinds present, the scope, resources by kind
    (Delete, Create, Modify, NoChange, Unsupported, Ignore) then id, a Create's and a
    Delete's whole body and a Modify's delta (paths padded to the longest leaf, arrays
    by index), the summary in az's words and order."""
    assert ctl.format_what_if(WHAT_IF) == WHAT_IF_TEXT


def test_what_if_text_one_kind_and_no_change():
    one = {"properties": {"changes": [
        {"resourceId": NET + "virtualNetworks/v", "changeType": "NoChange"},
        {"resourceId": NET + "loadBalancers/l", "changeType": "NoChange"}]}}
    assert ctl.format_what_if(one) == f"""\
Resource and property changes are indicated with this symbol:
  = Nochange

The deployment will update the following scope:

Scope: {SCOPE}

  = Microsoft.Network/loadBalancers/l
  = Microsoft.Network/virtualNetworks/v

Resource changes: 2 no change."""
    assert ctl.format_what_if({"properties": {"changes": []}}) == "Resource changes: no change."


def test_what_if_modify_of_objects_and_nested_paths():
    """A Modify whose before is an object: "=>" on its own line; an element changed
    in place inside an array: its children by their own paths."""
    answer = {"properties": {"changes": [{
        "resourceId": NET + "loadBalancers/l", "changeType": "Modify", "delta": [
            {"path": "properties.probe", "propertyChangeType": "Modify",
             "before": {"id": "a"}, "after": "b"},
            {"path": "properties.list", "propertyChangeType": "Array", "children": [
                {"path": "0", "propertyChangeType": "Delete", "before": "x"}]}]}]}}
    assert ctl.format_what_if(answer).split("\n")[8:] == [
        "  ~ Microsoft.Network/loadBalancers/l",
        "    ~ properties.list: [",
        "      - 0: \"x\"",
        "      ]",
        "    ~ properties.probe:",
        "",
        "        id: \"a\"",
        "",
        "      => \"b\"",
        "",
        "",
        "Resource changes: 1 to modify."]


# --------------------------------------------------------------------------
# Without sluiced: what is sent (a recording client instead of the socket)
# --------------------------------------------------------------------------

class Recorder:
    """Client's interface: records each request, answers from `answers` in turn."""
    calls, answers = [], []

    def __init__(self, socket_path, api_version, debug=False):
        pass

    def request(self, method, path, body=None, api_version=True):
        Recorder.calls.append({"method": method, "path": path, "body": body,
                               "api_version": api_version})
        return Recorder.answers.pop(0)


@pytest.fixture
def recorder(monkeypatch):
    monkeypatch.setattr(ctl, "Client", Recorder)
    Recorder.calls, Recorder.answers = [], []
    return Recorder


RECORD = {"id": f"/subscriptions/{h.SUB}/resourceGroups/rg/providers/Microsoft.Resources/"
                "deployments/lb-basic", "name": "lb-basic",
          "properties": {"provisioningState": "Succeeded", "mode": "Complete",
                         "timestamp": "2024-05-02T09:20:41.123Z"}}


def test_create_sends_one_put(recorder, capsys):
    recorder.answers = [RECORD]
    assert ctl.main(["deployment", "group", "create", "-g", "rg", "-f", TEMPLATE, "-p",
                     f"@{PARAMS}", "port=81", "--mode", "complete", "--skip-unsupported",
                     "--subscription", "s1"]) == 0
    (call,) = recorder.calls
    assert call["method"] == "PUT"
    assert call["path"] == ("/subscriptions/s1/resourcegroups/rg/providers/"
                            "Microsoft.Resources/deployments/lb-basic")
    assert call["api_version"] == "2021-04-01"
    with open(TEMPLATE) as f:
        template = json.load(f)
    assert call["body"] == {"properties": {
        "mode": "Complete", "template": template, "skipUnsupportedResources": True,
        "parameters": {"frontendIp": {"value": "198.51.100.10"},
                       "backendIps": {"value": ["10.20.1.4", "10.20.1.5"]},
                       "port": {"value": 81}}}}
    assert h.table_rows(capsys.readouterr().out) == [
        ["lb-basic", "rg", "Succeeded", "2024-05-02T09:20:41.123Z", "Complete"]]


def test_what_if_filters_and_result_format(recorder, capsys):
    """-x leaves kinds out and ResourceIdOnly leaves bodies out, whatever sluiced sent;
    the request asks for the format too (whatIfSettings)."""
    recorder.answers = [json.loads(json.dumps(WHAT_IF))]
    assert ctl.main(["deployment", "group", "what-if", "-g", "rg", "-n", "d", "-f", TEMPLATE,
                     "-p", f"@{PARAMS}", "-r", "resourceidonly", "-x", "nochange", "Ignore",
                     "Unsupported", "-o", "json"]) == 0
    (call,) = recorder.calls
    assert call["method"] == "POST" and call["path"].endswith("/deployments/d/whatIf")
    assert call["body"]["properties"]["whatIfSettings"] == {"resultFormat": "ResourceIdOnly"}
    assert call["body"]["properties"]["mode"] == "Incremental"
    changes = json.loads(capsys.readouterr().out)["properties"]["changes"]
    assert [(c["changeType"], c["resourceId"].rsplit("/", 1)[1]) for c in changes] == [
        ("Modify", "lb2"), ("Create", "new"), ("Delete", "old")]
    assert all(set(c) == {"changeType", "resourceId"} for c in changes)


def test_validate_show_list_delete_paths(recorder, capsys):
    recorder.answers = [{"properties": {"provisioningState": "Succeeded",
                                        "correlationId": "c-1", "validatedResources": []}},
                        RECORD, {"value": [RECORD]}, None]
    base = f"/subscriptions/{h.SUB}/resourcegroups/rg/providers/Microsoft.Resources/deployments"
    assert ctl.main(["deployment", "group", "validate", "-g", "rg", "-f", TEMPLATE, "-p",
                     f"@{PARAMS}"]) == 0
    assert h.table_rows(capsys.readouterr().out) == [["Succeeded", "c-1"]]
    for verb in (["show", "-n", "lb-basic"], ["list"], ["delete", "-n", "lb-basic"]):
        assert ctl.main(["deployment", "group"] + verb + ["-g", "rg"]) == 0
    assert [(c["method"], c["path"]) for c in recorder.calls] == [
        ("POST", base + "/lb-basic/validate"), ("GET", base + "/lb-basic"), ("GET", base),
        ("DELETE", base + "/lb-basic")]


def test_confirm_without_a_terminal(recorder, capsys, monkeypatch):
    """-c needs a terminal for its question, unless --yes or --proceed-if-no-change
    (with no change) answers it."""
    no_change = {"status": "Succeeded", "properties": {"changes": [
        {"resourceId": NET + "loadBalancers/l", "changeType": "NoChange"}]}}
    monkeypatch.setattr("sys.stdin", open(os.devnull))
    args = ["deployment", "group", "create", "-g", "rg", "-f", TEMPLATE, "-p", f"@{PARAMS}", "-c"]
    recorder.answers = [json.loads(json.dumps(WHAT_IF))]
    assert ctl.main(args) == 1
    out, err = capsys.readouterr()
    assert out.startswith("Resource and property changes are indicated with these symbols:")
    assert err == "ERROR: Unable to prompt for confirmation as no tty available. Use --yes.\n"
    assert [c["method"] for c in recorder.calls] == ["POST"]
    recorder.answers = [no_change, RECORD]
    assert ctl.main(args + ["--proceed-if-no-change"]) == 0
    recorder.answers = [json.loads(json.dumps(WHAT_IF))]
    assert ctl.main(args + ["--proceed-if-no-change"]) == 1
    recorder.answers = [json.loads(json.dumps(WHAT_IF)), RECORD]
    assert ctl.main(args + ["--yes"]) == 0
    assert [c["method"] for c in recorder.calls] == ["POST", "POST", "PUT", "POST", "POST", "PUT"]


def test_failed_record_is_an_error(recorder, capsys):
    failed = json.loads(json.dumps(RECORD))
    failed["properties"].update(provisioningState="Failed", error={
        "code": "DeploymentFailed", "message": "At least one resource deployment failed.",
        "details": [{"code": "BackendAddressNotInVirtualNetwork", "message": "outside",
                     "target": "loadBalancers/l"}]})
    recorder.answers = [failed]
    assert ctl.main(["deployment", "group", "create", "-g", "rg", "-f", TEMPLATE, "-p",
                     f"@{PARAMS}"]) == 1
    assert h.error_lines(capsys.readouterr().err) == [
        "ERROR: (DeploymentFailed) At least one resource deployment failed.",
        "Code: DeploymentFailed", "Message: At least one resource deployment failed.",
        "Exception Details:\t(BackendAddressNotInVirtualNetwork) outside",
        "\tCode: BackendAddressNotInVirtualNetwork", "\tMessage: outside",
        "\tTarget: loadBalancers/l"]
