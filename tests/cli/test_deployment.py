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


# --------------------------------------------------------------------------
# Against sluiced
# --------------------------------------------------------------------------

def lb_params(n, lb=None, vnet=None):
    """KEY=VALUE parameters giving deployment n its own names and addresses (names are
    unique per type across resource groups)."""
    return [f"lbName={lb or f'lb{n}'}", f"vnetName={vnet or f'vn{n}'}",
            f"vnetPrefix=10.{n}.0.0/16", f"frontendIp=198.51.100.{n}",
            f'backendIps=["10.{n}.1.4", "10.{n}.1.5"]']


def group_cmd(verb, rg, *args):
    return ["deployment", "group", verb, "-g", rg, *args]


def deploy(verb, rg, n, *extra, lb=None, vnet=None):
    """sluicectl deployment group VERB of lb-basic with deployment n's parameters."""
    return group_cmd(verb, rg, "-f", TEMPLATE, "-p", f"@{PARAMS}", *lb_params(n, lb, vnet),
                     *extra)


def ids(items):
    return sorted(x["id"].lower() for x in items)


def test_create_show_list_delete(cli):
    rg = "rgDep"
    r = cli.ok(*deploy("create", rg, 21))
    ((name, group_, state_, ts, mode),) = h.table_rows(r.stdout)
    assert (name, group_, state_, mode) == ("lb-basic", rg, "Succeeded", "Incremental")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", ts), ts
    rec = cli.json(*group_cmd("show", rg, "-n", "lb-basic"))
    assert rec["name"] == "lb-basic" and rec["properties"]["provisioningState"] == "Succeeded"
    assert rec["properties"]["outputs"]["frontend"]["value"] == "198.51.100.21:80"
    assert ids(rec["properties"]["outputResources"]) == sorted(
        x.lower() for x in (h.arm(rg, "loadBalancers", "lb21"),
                            h.arm(rg, "virtualNetworks", "vn21")))
    lb = cli.json("lb", "show", "-g", rg, "-n", "lb21")
    p = lb["properties"]
    assert p["frontendIPConfigurations"][0]["properties"]["privateIPAddress"] == "198.51.100.21"
    assert [a["properties"]["ipAddress"] for a in
            p["backendAddressPools"][0]["properties"]["loadBalancerBackendAddresses"]] == [
        "10.21.1.4", "10.21.1.5"]
    assert p["probes"][0]["properties"]["port"] == 80

    cli.ok(*deploy("create", rg, 21, "-n", "again"))
    rows = h.table_rows(cli.ok(*group_cmd("list", rg)).stdout)
    assert [(x[0], x[1], x[2], x[4]) for x in rows] == [
        ("lb-basic", rg, "Succeeded", "Incremental"), ("again", rg, "Succeeded", "Incremental")]
    assert sorted(x["name"] for x in cli.json(*group_cmd("list", rg))["value"]) == [
        "again", "lb-basic"]
    assert [row[0] for row in h.tsv_rows(cli.ok(*group_cmd("list", rg, "-o", "tsv")).stdout)] \
        == ["lb-basic", "again"]

    r = cli.ok(*group_cmd("delete", rg, "-n", "lb-basic"))
    assert r.stdout == ""
    cli.fail(*group_cmd("show", rg, "-n", "lb-basic"), code="DeploymentNotFound")
    assert [x["name"] for x in cli.json(*group_cmd("list", rg))["value"]] == ["again"]
    cli.ok("lb", "show", "-g", rg, "-n", "lb21")  # the record goes, the resources stay
    cli.ok(*group_cmd("delete", rg, "-n", "lb-basic"))  # absent: nothing to do


def test_parameters_forms_reach_sluiced(cli, tmp_path):
    """A bare parameters file, inline JSON, KEY=VALUE typed by the template (an int
    stays a number), and a later value winning over an earlier one."""
    rg = "rgParams"
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps({"frontendIp": {"value": "198.51.100.99"},
                                "lbName": {"value": "lb22"}, "vnetName": {"value": "vn22"},
                                "vnetPrefix": {"value": "10.22.0.0/16"}}))
    inline = json.dumps({"backendIps": {"value": ["10.22.1.7"]}})
    cli.ok(*group_cmd("create", rg, "-n", "forms", "-f", TEMPLATE, "-p", f"@{bare}",
                      "-p", inline, "port=8080", "probePath=/healthz",
                      "-p", "frontendIp=198.51.100.22"))
    p = cli.json("lb", "show", "-g", rg, "-n", "lb22")["properties"]
    assert p["frontendIPConfigurations"][0]["properties"]["privateIPAddress"] == "198.51.100.22"
    assert [a["properties"]["ipAddress"] for a in
            p["backendAddressPools"][0]["properties"]["loadBalancerBackendAddresses"]] == [
        "10.22.1.7"]
    assert p["probes"][0]["properties"]["port"] == 8080
    assert p["probes"][0]["properties"]["requestPath"] == "/healthz"
    assert p["loadBalancingRules"][0]["properties"]["frontendPort"] == 8080
    rec = cli.json(*group_cmd("show", rg, "-n", "forms"))
    assert rec["properties"]["parameters"]["port"]["value"] == 8080
    assert rec["properties"]["outputs"]["frontend"]["value"] == "198.51.100.22:8080"


def test_validate(cli):
    rg = "rgValid"
    before = h.commits(cli)
    rows = h.table_rows(cli.ok(*deploy("validate", rg, 23)).stdout)
    assert [r[0] for r in rows] == ["Succeeded"]
    res = cli.json(*deploy("validate", rg, 23))["properties"]["validatedResources"]
    assert ids(res) == sorted(x.lower() for x in (h.arm(rg, "loadBalancers", "lb23"),
                                                   h.arm(rg, "virtualNetworks", "vn23")))
    assert h.commits(cli) == before
    cli.fail("lb", "show", "-g", rg, "-n", "lb23", code="ResourceNotFound")
    assert cli.json(*group_cmd("list", rg))["value"] == []
    r = cli.fail(*deploy("validate", rg, 23, "frontendIp=not-an-address"))
    assert r.stderr.startswith("ERROR: (InvalidTemplateDeployment) "), r.stderr


def summary(stdout):
    return [ln for ln in stdout.splitlines() if ln.startswith("Resource changes: ")]


def resource_lines(stdout):
    return [ln for ln in stdout.splitlines() if re.match(r"  [-+~=*x!] Microsoft\.", ln)]


def test_what_if_create_nochange_modify_ignore_delete(cli):
    rg = "rgWhatIf"
    lb, vnet = "Microsoft.Network/loadBalancers/lb24", "Microsoft.Network/virtualNetworks/vn24"
    before = h.commits(cli)
    out = cli.ok(*deploy("what-if", rg, 24)).stdout
    assert out.startswith("Resource and property changes are indicated with this symbol:\n"
                          "  + Create\n\nThe deployment will update the following scope:\n\n"
                          f"Scope: /subscriptions/{h.SUB}/resourceGroups/{rg}\n"), out
    assert resource_lines(out) == [f"  + {lb}", f"  + {vnet}"]
    assert summary(out) == ["Resource changes: 2 to create."]
    assert '      name: "lb24"' in out.splitlines() or any(
        re.fullmatch(r'      name: +"lb24"', ln) for ln in out.splitlines()), out
    # create --what-if: the same preview, nothing deployed
    assert cli.ok(*deploy("create", rg, 24, "--what-if")).stdout == out
    assert h.commits(cli) == before
    assert cli.json(*group_cmd("list", rg))["value"] == []

    cli.ok(*deploy("create", rg, 24))
    out = cli.ok(*deploy("what-if", rg, 24)).stdout
    assert resource_lines(out) == [f"  = {lb}", f"  = {vnet}"]
    assert summary(out) == ["Resource changes: 2 no change."]

    out = cli.ok(*deploy("what-if", rg, 24, "port=8080")).stdout
    assert resource_lines(out) == [f"  ~ {lb}", f"  = {vnet}"]
    assert summary(out) == ["Resource changes: 1 to modify, 1 no change."]
    lines = out.splitlines()
    assert any(re.fullmatch(r"\s+~ (properties\.)?port: +80 => 8080", ln) for ln in lines), out
    assert any(re.fullmatch(r"\s+~ (properties\.)?frontendPort: +80 => 8080", ln)
               for ln in lines), out

    # another resource of the group: left alone (Incremental), deleted (Complete)
    cli.ok("vnet", "create", "-g", rg, "-n", "vn24b", "--address-prefixes", "10.124.0.0/16")
    other = "Microsoft.Network/virtualNetworks/vn24b"
    out = cli.ok(*deploy("what-if", rg, 24)).stdout
    assert resource_lines(out) == [f"  = {lb}", f"  = {vnet}", f"  * {other}"]
    assert summary(out) == ["Resource changes: 2 no change, 1 to ignore."]
    assert "  * Ignore" in out.splitlines()
    out = cli.ok(*deploy("what-if", rg, 24, "port=81", "--mode", "Complete")).stdout
    assert resource_lines(out) == [f"  - {other}", f"  ~ {lb}", f"  = {vnet}"]
    assert summary(out) == ["Resource changes: 1 to delete, 1 to modify, 1 no change."]
    assert out.splitlines()[:5] == [
        "Resource and property changes are indicated with these symbols:",
        "  - Delete", "  ~ Modify", "  = Nochange", ""], out
    out = cli.ok(*deploy("what-if", rg, 24, "--mode", "Complete", "-x", "NoChange",
                         "Modify")).stdout
    assert resource_lines(out) == [f"  - {other}"]
    out = cli.ok(*deploy("what-if", rg, 24, "--mode", "Complete", "-r",
                         "ResourceIdOnly")).stdout
    assert resource_lines(out) == [f"  - {other}", f"  = {lb}", f"  = {vnet}"]
    assert "addressSpace" not in out  # ids only: no bodies
    w = cli.json(*deploy("what-if", rg, 24, "--mode", "Complete"))
    assert w["status"] == "Succeeded"
    assert sorted((c["changeType"], c["resourceId"].lower()) for c in w["properties"]["changes"]) \
        == sorted([("Delete", h.arm(rg, "virtualNetworks", "vn24b").lower()),
                   ("NoChange", h.arm(rg, "loadBalancers", "lb24").lower()),
                   ("NoChange", h.arm(rg, "virtualNetworks", "vn24").lower())])
    assert [r[0] for r in h.tsv_rows(cli.ok(*deploy("what-if", rg, 24, "-o", "tsv")).stdout)] \
        == ["NoChange", "NoChange", "Ignore"]
    cli.ok("vnet", "show", "-g", rg, "-n", "vn24b")  # what-if changed nothing


def test_complete_mode_deletes_what_the_template_does_not_name(cli):
    rg = "rgComplete"
    cli.ok(*deploy("create", rg, 25))
    cli.ok("vnet", "create", "-g", rg, "-n", "vn25b", "--address-prefixes", "10.125.0.0/16")
    cli.ok(*deploy("create", rg, 25))  # Incremental: vn25b stays
    cli.ok("vnet", "show", "-g", rg, "-n", "vn25b")
    rows = h.table_rows(cli.ok(*deploy("create", rg, 25, "-n", "full", "--mode",
                                       "complete")).stdout)
    assert [(r[0], r[2], r[4]) for r in rows] == [("full", "Succeeded", "Complete")]
    cli.fail("vnet", "show", "-g", rg, "-n", "vn25b", code="ResourceNotFound")
    cli.ok("lb", "show", "-g", rg, "-n", "lb25")


def test_invalid_template_shows_the_position(cli, tmp_path):
    rg = "rgInvalid"
    with open(TEMPLATE) as f:
        tmpl = json.load(f)
    tmpl["resources"][0]["name"] = "[concat(parameters('vnetName'), ]"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(tmpl, indent=2))
    before = h.commits(cli)
    r = cli.fail(*group_cmd("create", rg, "-f", str(bad), "-p", f"@{PARAMS}",
                            *lb_params(26)), code="InvalidTemplate")
    assert re.search(r"at position \d+ of '\[concat\(parameters\('vnetName'\), \]'",
                     r.stderr), r.stderr
    assert "JSON path: $.resources[0].name" in r.stderr.splitlines(), r.stderr
    assert h.commits(cli) == before
    rows = h.table_rows(cli.ok(*group_cmd("show", rg, "-n", "bad")).stdout)
    assert [(x[0], x[2]) for x in rows] == [("bad", "Failed")]
    rec = cli.json(*group_cmd("show", rg, "-n", "bad"))
    assert rec["properties"]["error"]["code"] == "InvalidTemplate"
    for verb in ("validate", "what-if"):
        cli.fail(*group_cmd(verb, rg, "-f", str(bad), "-p", f"@{PARAMS}", *lb_params(26)),
                 code="InvalidTemplate")
    # not JSON at all: sluicectl says where, and sends nothing
    bad.write_text('{\n  "resources": [\n    {"type": "x" "name": "y"}\n  ]\n}\n')
    r = cli.fail(*group_cmd("create", rg, "-f", str(bad)))
    assert h.error_lines(r.stderr) == [
        f"ERROR: Failed to parse the template file '{bad}', please check whether it is a "
        "valid JSON format: Expecting ',' delimiter: line 3 column 18 (char 36)."]
    # a parameter the template does not declare
    r = cli.fail(*deploy("create", rg, 26, "colour=blue"), status=2)
    assert h.error_lines(r.stderr)[0].startswith(
        "ERROR: unrecognized template parameter 'colour'. Allowed parameters: backendIps, ")


def unsupported_template(tmp_path):
    with open(TEMPLATE) as f:
        tmpl = json.load(f)
    tmpl["resources"] += [
        {"type": "Microsoft.Storage/storageAccounts", "apiVersion": "2021-04-01",
         "name": "store27", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}},
        {"type": "Microsoft.Compute/virtualMachines", "apiVersion": "2021-03-01",
         "name": "vm27", "properties": {}}]
    f = tmp_path / "mixed.json"
    f.write_text(json.dumps(tmpl))
    return str(f)


def test_unsupported_types_refused_or_skipped(cli, tmp_path):
    rg = "rgUnsupported"
    mixed = unsupported_template(tmp_path)
    args = ("-f", mixed, "-p", f"@{PARAMS}", *lb_params(27))
    before = h.commits(cli)
    r = cli.fail(*group_cmd("create", rg, *args), code="InvalidTemplateDeployment")
    lines = h.error_lines(r.stderr)
    details = [ln for ln in lines if ln.startswith("Exception Details:")]
    assert len(details) == 2, r.stderr
    assert any("Microsoft.Storage/storageAccounts" in ln for ln in details), r.stderr
    assert any("Microsoft.Compute/virtualMachines" in ln for ln in details), r.stderr
    assert "\tCode: UnsupportedResourceType" in lines
    assert "\tJSON path: $.resources[2]" in lines and "\tJSON path: $.resources[3]" in lines
    assert h.commits(cli) == before
    cli.fail("lb", "show", "-g", rg, "-n", "lb27", code="ResourceNotFound")

    out = cli.ok(*group_cmd("what-if", rg, *args, "--skip-unsupported")).stdout
    assert sorted(resource_lines(out)) == sorted([
        "  + Microsoft.Network/loadBalancers/lb27", "  + Microsoft.Network/virtualNetworks/vn27",
        "  x Microsoft.Storage/storageAccounts/store27",
        "  x Microsoft.Compute/virtualMachines/vm27"])
    assert summary(out) == ["Resource changes: 2 to create, 2 unsupported."]
    assert "Diagnostics (2):" in out.splitlines()

    rec = cli.json(*group_cmd("create", rg, *args, "--skip-unsupported"))
    assert rec["properties"]["provisioningState"] == "Succeeded"
    assert sorted(s["id"].rsplit("/", 1)[1] for s in rec["properties"]["skippedResources"]) == [
        "store27", "vm27"]
    cli.ok("lb", "show", "-g", rg, "-n", "lb27")


def run_on_a_terminal(cli, args, answer):
    """sluicectl with a terminal (a pty) as its stdin, answering the question."""
    master, slave = os.openpty()
    try:
        p = subprocess.Popen([h.PYTHON, h.SLUICECTL, "--socket", cli.daemon.socket] + args,
                             stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=cli.env())
        os.close(slave)
        slave = None
        os.write(master, answer.encode())
        out, err = p.communicate(timeout=60)
    finally:
        os.close(master)
        if slave is not None:
            os.close(slave)
    return p.returncode, out, err


def test_confirm_with_what_if_on_a_terminal(cli):
    rg = "rgConfirm"
    args = deploy("create", rg, 28, "-c")
    rc, out, err = run_on_a_terminal(cli, args, "n\n")
    assert (rc, err) == (0, ""), err
    assert out.startswith("Resource and property changes are indicated with this symbol:")
    assert out.rstrip().endswith("Are you sure you want to execute the deployment? (y/n):"), out
    assert cli.json(*group_cmd("list", rg))["value"] == []
    rc, out, err = run_on_a_terminal(cli, args, "maybe\ny\n")
    assert (rc, err) == (0, ""), err
    assert out.count("Are you sure you want to execute the deployment? (y/n): ") == 2, out
    assert h.table_rows(out.split("(y/n): ")[-1])[0][:3] == ["lb-basic", rg, "Succeeded"]
    cli.ok("lb", "show", "-g", rg, "-n", "lb28")
    # no change: --proceed-if-no-change deploys without asking, even without a terminal
    r = cli.ok(*args, "--proceed-if-no-change", "-o", "json")
    assert "Resource changes: 2 no change." in r.stdout


def test_usage_errors(cli):
    r = cli.run("deployment", "group", "list")
    assert r.returncode == 2 and "-g/--resource-group" in r.stderr
    r = cli.run(*group_cmd("create", "rg", "-p", "x=1"))
    assert r.returncode == 2 and "--template-file" in r.stderr
    r = cli.run(*deploy("create", "rg", 29, "--mode", "Partial"))
    assert r.returncode == 2 and "invalid choice: 'Partial'" in r.stderr
    r = cli.run(*group_cmd("show", "rg", "-n", "a/b"))
    assert r.returncode == 2
