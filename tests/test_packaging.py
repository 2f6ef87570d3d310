"""The distribution builds quietly and carries its data files (the page at /, skill locale files,
voices): what `pip install -e .` runs, without pip, in a few seconds."""

import re
import shutil
import subprocess
import sys

from tests.conftest import REPO


def test_build_names_its_data_files_and_setuptools_has_nothing_to_warn_about(tmp_path):
    # A copy: the build writes its egg-info beside setup.py, as pip's does.
    project = tmp_path / "project"
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    project.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, project / name)
    for folder in ("requirements", "bridge", "plugins", "skills", "personas"):
        shutil.copytree(REPO / folder, project / folder, ignore=skip)
    result = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(tmp_path / "lib")],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # e.g. "_Warning: Package 'ovos_skill_realtime_tools.locale' is absent from the `packages`
    # configuration", "SetuptoolsDeprecationWarning: License classifiers are deprecated"
    assert not re.search(r"\w*Warning: ", output), output
    built = tmp_path / "lib"
    for data_file in (
        "ovos_realtime/server/static/index.html",
        "ovos_realtime/server/static/home.js",
        "ovos_skill_realtime_tools/locale/en-us/timer.start.intent",
        "ovos_tts_plugin_onnx_stream/kokoro_voices/voices-en.npz",
        "ovos_realtime_personas/default.json",
    ):
        assert (built / data_file).is_file(), data_file
