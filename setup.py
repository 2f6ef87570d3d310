"""One distribution, `ovos-realtime`, installs the bridge, the OVOS plugins, personas and skills."""

from pathlib import Path

from setuptools import setup

HERE = Path(__file__).parent


def requirements(name: str) -> list[str]:
    path = HERE / "requirements" / f"{name}.txt"
    if not path.exists():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def version() -> str:
    scope: dict = {}
    exec((HERE / "bridge" / "ovos_realtime" / "version.py").read_text(), scope)
    return scope["__version__"]


# Import packages and the folder each lives in (DESIGN.md fixes the layout).
PACKAGE_DIRS = {
    "ovos_realtime": "bridge/ovos_realtime",
    "ovos_realtime_personas": "personas",
    "ovos_vad_plugin_dual": "plugins/ovos_vad_plugin_dual",
    "ovos_stt_plugin_whisper_streaming": "plugins/ovos_stt_plugin_whisper_streaming",
    "ovos_tts_plugin_onnx_stream": "plugins/ovos_tts_plugin_onnx_stream",
    "ovos_realtime_plugin_common": "plugins/ovos_realtime_plugin_common",
    "ovos_skill_realtime_tools": "skills/ovos_skill_realtime_tools",
    "hivemind_realtime_agent_plugin": "plugins/hivemind_realtime_agent_plugin",
}


def packages() -> tuple[list[str], dict[str, str]]:
    """Every import package (with subpackages) under the folders above that exists yet."""
    found, dirs = [], {}
    for name, folder in PACKAGE_DIRS.items():
        root = HERE / folder
        if not (root / "__init__.py").exists():
            continue
        for init in sorted(root.rglob("__init__.py")):
            rel = init.parent.relative_to(root)
            pkg = ".".join((name, *rel.parts)) if rel.parts else name
            found.append(pkg)
            dirs[pkg] = str(Path(folder, *rel.parts))
    return found, dirs


PACKAGES, PACKAGE_DIR = packages()

VAD = "ovos-vad-plugin-dual = ovos_vad_plugin_dual:DualVAD"
STT = "ovos-stt-plugin-whisper-streaming = ovos_stt_plugin_whisper_streaming:WhisperStreamingSTT"
STT_CONFIG = "ovos-stt-plugin-whisper-streaming = ovos_stt_plugin_whisper_streaming:WhisperStreamingSTTConfig"
TTS = [
    "ovos-tts-plugin-kokoro-stream = ovos_tts_plugin_onnx_stream:KokoroStreamTTS",
    "ovos-tts-plugin-phoonnx-stream = ovos_tts_plugin_onnx_stream:PhoonnxStreamTTS",
]
HIVEMIND_AGENT = (
    "hivemind-realtime-agent-plugin = hivemind_realtime_agent_plugin:RealtimeAgentProtocol"
)
HIVEMIND_AUDIO = (
    "hivemind-realtime-audio-plugin = hivemind_realtime_agent_plugin:RealtimeAudioProtocol"
)
SKILL = "ovos-skill-realtime-tools.openvoiceos = ovos_skill_realtime_tools:RealtimeToolsSkill"
TTS_CONFIG = [
    "ovos-tts-plugin-kokoro-stream.config = ovos_tts_plugin_onnx_stream:KokoroStreamTTSConfig",
    "ovos-tts-plugin-phoonnx-stream.config = ovos_tts_plugin_onnx_stream:PhoonnxStreamTTSConfig",
]

setup(
    name="ovos-realtime",
    version=version(),
    description="Local, private OpenAI Realtime API drop-in built on OpenVoiceOS plugins",
    long_description=(HERE / "README.md").read_text(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=PACKAGES,
    package_dir=PACKAGE_DIR,
    # Data files are named here, and only here: include_package_data (which reads the manifest)
    # would also warn, for each data folder with a name like a package, that it is not one.
    package_data={
        "": ["*.json", "*.yaml", "*.npz", "locale/*/*", "locale/*/*/*", "locale/*/*/*/*"],
        # The English Kokoro voices and their attribution (a data folder, not a package).
        "ovos_tts_plugin_onnx_stream": ["kokoro_voices/*.npz", "kokoro_voices/README.md"],
        # The home page at / (static HTML, JS and CSS; no build step).
        "ovos_realtime.server": ["static/*"],
    },
    install_requires=(
        requirements("bridge")
        + requirements("vad")
        + requirements("stt")
        + requirements("tts")
        + requirements("ovos")
        + requirements("hivemind")
    ),
    entry_points={
        "console_scripts": ["ovos-realtime = ovos_realtime.cli:main"],
        "opm.VAD": [VAD],
        "ovos.plugin.VAD": [VAD],
        "opm.stt": [STT],
        "mycroft.plugin.stt": [STT],
        "opm.stt.config": [STT_CONFIG],
        "opm.tts": TTS,
        "mycroft.plugin.tts": TTS,
        "opm.tts.config": TTS_CONFIG,
        "opm.skill": [SKILL],
        "ovos.plugin.skill": [SKILL],
        "hivemind.agent.protocol": [HIVEMIND_AGENT],
        "hivemind.binary.protocol": [HIVEMIND_AUDIO],
    },
    # No "License ::" classifier: `license` says it, and setuptools deprecates the classifier.
    classifiers=["Programming Language :: Python :: 3"],
)
