"""The README's examples run and do what they say."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) == 2


@pytest.mark.parametrize("source", EXAMPLES, ids=["poll", "threads"])
def test_example(source: str) -> None:
    exec(compile(source, str(README), "exec"), {"__name__": "readme_example"})
