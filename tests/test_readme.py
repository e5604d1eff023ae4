"""README.md is a newcomer's page: at most 200 lines (150, plus the attack table issue 11 asked for, the deployment
section issue 13 asked for and the local API's differences issue 12 asked for), its links (and those of docs/ and
examples/README.md)
lead somewhere, and every command it shows is run by a test or by .ci/run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, ROOT / "examples" / "README.md", *sorted(DOCS.glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")

# Each command of the README's ```sh blocks -> the file that runs it, and what that file must contain.
RUN_BY: dict[str, tuple[str, list[str]]] = {
    # a fresh venv, then the plain install of the repository folder
    "pip install .": (".ci/packaging.sh", [r'pip" install [^\n]*"\$repo"\n']),
    "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[dev,examples]' "
    "--config-settings editable_mode=strict": (
        ".ci/run",
        [
            r'\npython3 -m venv "\$VENV"\n',
            r'\n\. "\$VENV/bin/activate"\n',
            r"\npip install (-q )?-e '\.\[dev,examples\]' --config-settings editable_mode=strict\n",
        ],
    ),
    # the console script with no arguments, over stdio, as a host launches it
    "square-customers-mcp": (
        "tests/test_console_script.py",
        [r"StdioServerParameters\(\s*command=str\(SCRIPT\),\s*args=\[\]"],
    ),
    "pytest": (".ci/run", [r"\npytest\n"]),
    # OAuth mode, as the two-replica test (and bench_oauth.py) starts each replica (with --host and --port besides)
    "square-customers-mcp serve --transport http --auth oauth": (
        "tests/oauth/oauth_mcp_support.py",
        [r'"serve", "--transport", "http"', r'"--auth", "oauth"'],
    ),
}


def _shell_commands(text: str) -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
    lines = (re.sub(r"\s+#.*$", "", line).strip() for block in blocks for line in block.splitlines())
    return [line for line in lines if line]


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    return {_slug(m) for m in re.findall(r"^#{1,6} (.+)$", text, re.MULTILINE)}


def test_the_readme_is_at_most_200_lines() -> None:
    assert len(README.read_text().splitlines()) <= 200


def test_every_docs_page_linked_from_the_readme_exists_and_every_page_is_linked() -> None:
    linked = {target.split("#")[0] for target in LINK.findall(README.read_text())}
    docs = {target for target in linked if target.startswith("docs/")}
    assert docs, "the README links its docs"
    assert sorted(target for target in docs if not (ROOT / target).is_file()) == []
    assert sorted(f"docs/{page.name}" for page in DOCS.glob("*.md") if f"docs/{page.name}" not in docs) == [], (
        "every page in docs/ is reachable from the README"
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_relative_links_and_their_anchors_resolve(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: not checked offline
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        missing_anchor = (
            bool(anchor) and resolved.suffix == ".md" and resolved.is_file() and anchor not in _anchors(resolved)
        )
        if not resolved.exists() or missing_anchor:
            broken.append(target)
    assert broken == [], f"{page.name}: links that lead nowhere"


def test_every_shell_command_in_the_readme_is_run_by_a_test_or_ci() -> None:
    commands = _shell_commands(README.read_text())
    assert commands, "the README shows its commands in ```sh blocks"
    assert sorted(set(commands) - set(RUN_BY)) == [], "a README command that nothing runs: add it to RUN_BY"
    for command in commands:
        runner, patterns = RUN_BY[command]
        text = (ROOT / runner).read_text()
        missing = [pattern for pattern in patterns if not re.search(pattern, text)]
        assert missing == [], f"{runner} no longer runs {command!r}"


def test_the_host_snippet_launches_with_uvx_as_packaging_does_and_asks_no_confirmation() -> None:
    configs = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", README.read_text(), re.DOTALL)]
    (entry,) = [config["mcpServers"]["square-customers"] for config in configs if "mcpServers" in config]
    assert entry["command"] == "uvx"
    assert entry["args"][0] == "--from" and entry["args"][2:] == ["square-customers-mcp"]
    # .ci/packaging.sh runs the same launch from the repository folder (and from the built wheel).
    assert re.search(r'uvx" --from "\$repo" square-customers-mcp', (ROOT / ".ci/packaging.sh").read_text())
    env = entry.get("env", {})
    # Claude Desktop and other hosts without form elicitation would refuse every destructive tool.
    assert "SQUARE_CONFIRM_DESTRUCTIVE" not in env
    assert set(env) <= {"SQUARE_ACCESS_TOKEN", "SQUARE_ENVIRONMENT"}
    assert "your" in env.get("SQUARE_ACCESS_TOKEN", "your"), "a placeholder, never a real token"
