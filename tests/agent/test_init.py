"""What `agent` offers a script: Desktop and the errors to catch, without touching a display on import."""

import subprocess
import sys

import pytest

import agent
from grounding.errors import GroundingError
from tests.conftest import REPO


@pytest.mark.parametrize("name", ["TargetNotFound", "ActionError", "DisplayError", "OffScreenError"])
def test_the_errors_a_script_catches_are_exported_and_are_grounding_errors(name):
    error = getattr(agent, name)
    assert name in agent.__all__ and issubclass(error, GroundingError)


def test_importing_agent_loads_no_display_library():
    code = "import sys, agent; agent.TargetNotFound; print(sorted({'pyautogui', 'mss'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        agent.Nope  # noqa: B018
