"""The documents a producer reads stay true: no workspace paths, every `beatguide` command and option
they show exists (and every lab script and `python -m` module), the README's layout names every
module, README and guide agree, the guide's drawing of the device is the built device, and --help
texts cite sections that exist."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import io
import json
import re
import shlex
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

import beatguide
from beatguide import client
from beatguide.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
GUIDE = ROOT / "docs" / "guide.md"
LAB = ["server/lab", "export/lab"]
DOCS = [
    README,
    *sorted((ROOT / "docs").glob("*.md")),
    *[ROOT / lab / "README.md" for lab in LAB],
    *sorted((ROOT / "models").glob("*/MODEL_CARD.md")),
]
DEVICE = ROOT / "m4l_device"

sys.path.insert(0, str(DEVICE))
import diagram  # noqa: E402


def _tracked() -> list[str]:
    """The repository's files (git ls-files; the working tree's files outside a git checkout)."""
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        return out.split()
    except (OSError, subprocess.CalledProcessError):
        return [p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*") if p.is_file()]


def _section(text: str, heading: str) -> str:
    """The text under a markdown heading, up to the next heading of the same or a higher level."""
    m = re.search(rf"^(#+) {re.escape(heading)}\s*$", text, re.M)
    assert m, heading
    end = re.search(rf"^#{{1,{len(m.group(1))}}} ", text[m.end() :], re.M)
    return text[m.end() : m.end() + end.start() if end else len(text)]


def _fenced(text: str) -> list[str]:
    return re.findall(r"^```[^\n]*\n(.*?)^```", text, re.M | re.S)


def _code(text: str) -> list[str]:
    """The lines of code blocks and the inline code spans (joined onto one line), comments cut."""
    lines = [ln for block in _fenced(text) for ln in block.splitlines()]
    prose = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    lines += [" ".join(span.split()) for span in re.findall(r"(?<!`)`([^`]+)`(?!`)", prose)]
    return [ln.split(" #")[0].strip() for ln in lines]


def _commands(text: str) -> list[str]:
    """Every `beatguide ...` / `python3 -m beatguide.client ...` command in code blocks and inline code."""
    cmds = []
    for ln in _code(text):
        m = re.match(r"(?:python3? -m )?(beatguide(?:\.client)?)((?= [A-Za-z-]|$).*)", ln)  # not its output
        if m:
            cmds.append(m.group(1) + m.group(2))
    return cmds


def _lab_commands(text: str) -> list[str]:
    """Every `python server/lab/X.py ...` / `python export/lab/X.py ...` command, from the script's path on."""
    return [m.group(1) for ln in _code(text) if (m := re.match(rf"python3? ((?:{'|'.join(LAB)})/.*)", ln))]


def _modules(text: str) -> list[str]:
    """The modules of every `python -m MODULE ...` command."""
    return [m.group(1) for ln in _code(text) if (m := re.match(r"python3? -m ([\w.]+)", ln))]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {s for a in parser._actions for s in a.option_strings}


def _check_command(cmd: str) -> list[str]:
    """What in one documented command the parser does not know (subcommands, --options)."""
    words = shlex.split(cmd.replace("[", " ").replace("]", " "), posix=True)
    parser = client.build_parser() if words[0] == "beatguide.client" else build_parser()
    problems, rest = [], words[1:]
    while rest and not rest[0].startswith("-") and _subparsers(parser):
        if rest[0].isupper() or rest[0] in {"...", "MODEL"}:  # a placeholder: COMMAND
            return []
        sub = _subparsers(parser)
        if rest[0] not in sub:
            return [f"{cmd}: no command {rest[0]!r}"]
        parser, rest = sub[rest[0]], rest[1:]
    known = _options(parser)
    for w in rest:
        if w.startswith("--"):
            opt = w.split("=")[0].split("|")[0].rstrip(",.;:)")
            if opt not in known:
                problems.append(f"{cmd}: no option {opt}")
    return problems


@cache
def _script_options(path: str) -> set[str] | None:
    """The options a lab script's ``--help`` shows (its ``main(["--help"])``, in this process); None
    where it cannot be imported here (an export/lab script without PyTorch)."""
    try:
        module = importlib.import_module(Path(path).stem)  # the lab folders are on pytest's pythonpath
    except ImportError:
        return None
    assert Path(module.__file__).resolve() == (ROOT / path).resolve(), module.__file__
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        module.main(["--help"])
    return set(re.findall(r"(?<![\w-])--[a-z][\w-]*", out.getvalue()))


def _check_lab_command(cmd: str) -> list[str]:
    """What in one documented lab command is not there: the script, its --options."""
    path, *words = shlex.split(cmd.replace("[", " ").replace("]", " "), posix=True)
    if not (ROOT / path).is_file():
        return [f"{cmd}: no script {path}"]
    options = [w.split("=")[0].rstrip(",.;:)") for w in words if w.startswith("--")]
    known = _script_options(path) if options else set()
    return [] if known is None else [f"{cmd}: no option {o}" for o in options if o not in known]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_workspace_or_home_paths(doc):
    text = doc.read_text(encoding="utf-8")
    for path in ("/work/", "/home/", "/Users/"):
        assert path not in text, f"{doc.name} holds {path}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_documented_command_and_option_exists(doc):
    cmds = _commands(doc.read_text(encoding="utf-8"))
    problems = [p for c in cmds for p in _check_command(c)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_documented_lab_script_and_module_exists(doc):
    text = doc.read_text(encoding="utf-8")
    problems = [p for c in _lab_commands(text) for p in _check_lab_command(c)]
    problems += [f"python -m {m}: no module {m}" for m in _modules(text) if importlib.util.find_spec(m) is None]
    assert not problems, "\n".join(problems)


def test_the_lab_command_checker_catches_what_no_longer_exists():
    assert _check_lab_command("server/lab/bench_osc.py --runs 200 --out docs/osc-bench.md --force") == []
    assert _check_lab_command("server/lab/bench.py --osc") == ["server/lab/bench.py --osc: no option --osc"]
    assert _check_lab_command("server/lab/nothing.py") == ["server/lab/nothing.py: no script server/lab/nothing.py"]
    assert _lab_commands("Run `python export/lab/curves.py OUT.png RUN ...`.\n") == [
        "export/lab/curves.py OUT.png RUN ..."
    ]
    assert _modules("```\npython -m beatguide.vectors FILE   # gone\n```\n") == ["beatguide.vectors"]
    assert importlib.util.find_spec("beatguide.vectors") is None


def test_the_command_checker_catches_what_no_longer_exists():
    assert _check_command("beatguide generate --score a.mid --seed 7") == []
    assert _check_command("beatguide finetune agvae2 --midi d --name n [--minutes 10] [--input-map gm|gmd]") == []
    assert _check_command("beatguide data build --gmd x") == []
    assert _check_command("beatguide.client ping --port 9010") == []
    assert _check_command("beatguide generate --out-dir x") == ["beatguide generate --out-dir x: no option --out-dir"]
    assert _check_command("beatguide render x") == ["beatguide render x: no command 'render'"]
    assert "beatguide generate --seed 7" in _commands("Run `beatguide generate --seed 7` now.\n")
    assert "beatguide serve --port 0" in _commands("```\nbeatguide serve --port 0   # a free port\n```\n")


def test_readme_layout_names_every_module():
    layout = _section(README.read_text(encoding="utf-8"), "Layout")
    modules = [
        f
        for f in _tracked()
        if re.fullmatch(
            r"(server/beatguide|export/beatguide_export|server/lab|export/lab)/.*\.py|m4l_device/[^/]+\.(py|js)", f
        )
        and not f.endswith("__init__.py")
    ]
    assert len(modules) > 30
    missing = [f for f in modules if f"`{Path(f).name}`" not in layout]
    assert not missing, missing


def test_readme_and_guide_agree():
    readme, guide = README.read_text(encoding="utf-8"), GUIDE.read_text(encoding="utf-8")
    statuses = re.findall(r"^\| `([^`]+)`", _section(readme, "When the status line says something is wrong"), re.M)
    assert len(statuses) >= 5
    for status in statuses:
        assert f"`{status}`" in guide, status
    install = _section(readme, "Get started")
    for line in [ln for b in _fenced(install) for ln in b.splitlines() if ln.strip()]:
        if not line.startswith("beatguide generate"):
            assert line in guide, line  # the same install and build commands
    assert "docs/guide.md" in readme and "(device.md)" in guide
    version = f"`beatguide {beatguide.__version__}`"  # what `beatguide --version` answers
    assert version in readme and version in guide


def test_readme_venv_recipe_activates_and_the_device_looks_there():
    """The venv the README makes is activated (so `beatguide` is on PATH for the next command) and
    lies where the device's launcher looks for beatguide."""
    install = _section(README.read_text(encoding="utf-8"), "Get started")
    block = next(b for b in _fenced(install) if "-m venv" in b)
    venv = re.search(r"-m venv (\S+)", block).group(1)
    assert f"source {venv}/bin/activate" in block and "pipx install ." in install
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = (
        "const {usualPlaces} = require(process.argv[1]);"
        "console.log(JSON.stringify([usualPlaces('darwin', {}, '/h'), usualPlaces('linux', {}, '/h'),"
        "usualPlaces('win32', {USERPROFILE: 'C:\\\\Users\\\\u'}, 'C:\\\\Users\\\\u')]))"
    )
    out = subprocess.run([node, "-e", script, str(DEVICE / "bg_launcher.js")], capture_output=True, text=True)
    mac, linux, win = json.loads(out.stdout)
    home = venv.removeprefix("~/")
    assert f"/h/{home}/bin/beatguide" in mac and f"/h/{home}/bin/beatguide" in linux
    assert f"C:\\Users\\u\\{home}\\Scripts\\beatguide.exe" in win


def test_cpu_wheel_index_wherever_the_train_extra_is_installed():
    for doc in DOCS:
        for line in doc.read_text(encoding="utf-8").splitlines():
            if re.search(r"pip install .*\[(train|.*,train)", line):
                assert "--extra-index-url https://download.pytorch.org/whl/cpu" in line, (doc.name, line)
    dev = _section(README.read_text(encoding="utf-8"), "For developers")
    assert "Node.js" in dev and "npm ci" in dev


def _helps(parser: argparse.ArgumentParser, name: str = "beatguide"):
    """(command, parser) for the parser and every sub-command, depth first."""
    yield name, parser
    for sub, p in _subparsers(parser).items():
        yield from _helps(p, f"{name} {sub}")


def test_every_help_shows_defaults_and_no_markup():
    for name, parser in [*_helps(build_parser()), ("python -m beatguide.client", client.build_parser())]:
        text = parser.format_help()
        assert "`" not in text, f"{name}: raw markup in --help"
        for a in parser._actions:
            if not a.option_strings or a.help == argparse.SUPPRESS or isinstance(a, argparse._VersionAction):
                continue
            assert a.help, f"{name} {a.option_strings[0]}: no help"
            shown = a.default not in (None, False, []) and not isinstance(a, argparse._HelpAction)
            if shown:
                assert "default" in parser._get_formatter()._get_help_string(a), f"{name} {a.option_strings[0]}"
    generate = _subparsers(build_parser())["generate"].format_help()
    for rng in ("1-8", "0.05-3.0", "0-99999", "20-400"):
        assert rng in " ".join(generate.split()), rng


def test_help_cites_sections_that_exist():
    texts = [p.format_help() for _, p in _helps(build_parser())]
    cites = re.findall(r"(README|docs/[\w.-]+\.md), '([^']+)'", " ".join(" ".join(texts).split()))
    assert ("docs/guide.md", "Which model for which job") in cites and ("README", "Where models are found") in cites
    for doc, heading in cites:
        text = (README if doc == "README" else ROOT / doc).read_text(encoding="utf-8")
        assert re.search(rf"^#+ {re.escape(heading)}\s*$", text, re.M), (doc, heading)


def test_model_help_lists_the_shipped_models():
    text = " ".join(_subparsers(build_parser())["generate"].format_help().split())
    shipped = sorted(p.parent.name for p in (ROOT / "models").glob("*/model.json"))
    assert f"shipped: {', '.join(shipped)};" in text


def test_committed_device_drawing_is_the_built_device(tmp_path):
    subprocess.run([sys.executable, str(DEVICE / "build.py"), "--out", str(tmp_path)], check=True, capture_output=True)
    svg = diagram.render_svg(diagram.read_patcher(tmp_path / "Beat Guide.amxd"))
    assert (ROOT / "docs" / "device-layout.svg").read_text(encoding="utf-8") == svg, (
        "docs/device-layout.svg is out of date: run python3 m4l_device/build.py"
    )
    assert "(device-layout.svg)" in GUIDE.read_text(encoding="utf-8")


def test_the_drawing_shows_and_the_guide_explains_every_control(tmp_path):
    subprocess.run([sys.executable, str(DEVICE / "build.py"), "--out", str(tmp_path)], check=True, capture_output=True)
    patcher = diagram.read_patcher(tmp_path / "Beat Guide.amxd")
    svg, guide = diagram.render_svg(patcher), GUIDE.read_text(encoding="utf-8")
    import xml.etree.ElementTree as ET

    ET.fromstring(svg)  # well-formed
    boxes = [b["box"] for b in patcher["boxes"] if b["box"].get("presentation")]
    buttons = [b["text"] for b in boxes if b["maxclass"] == "live.text"]
    params = [
        diagram._value(b)["parameter_longname"]
        for b in boxes
        if b["maxclass"] in ("live.dial", "live.numbox", "live.toggle", "live.menu")
        and not diagram._value(b)["parameter_longname"].startswith("Lane ")
    ]
    assert len(buttons) >= 5 and len(params) >= 5
    for name in buttons:
        assert f">{name}<" in svg and f"| {name} |" in guide, name
    for name in params:
        assert name in guide, name
