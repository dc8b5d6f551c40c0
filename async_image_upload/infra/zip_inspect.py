"""What a Lambda zip was built for, read from its files: refuse one that cannot run.

``--zip`` deploys a file built elsewhere. An x86_64 zip deployed as arm64 (or a
cp313 build on python3.12) deploys fine and then fails on every invocation with
an ImportError, so the zip is read before anything is uploaded:

* every shared library (``*.so``, ``*.so.N``): its ELF header's ``e_machine``
  (62 is x86_64, 183 is aarch64); a file that is not ELF was built for another OS;
* every ``*.dist-info/WHEEL``: its ``Tag:`` lines (python, ABI and platform);
* every extension module's name: ``cpython-312-x86_64-linux-gnu`` names the
  interpreter and machine it was compiled for.

Pure: a zip path in, a list of problems out.
"""

from __future__ import annotations

import re
import struct
import zipfile
from pathlib import Path

#: ELF e_machine values, by the architecture names Lambda uses.
ELF_MACHINES = {"x86_64": 62, "arm64": 183}
#: How wheels and extension modules spell the architectures.
_MACHINE_NAMES = {"x86_64": "x86_64", "arm64": "aarch64"}
_ELF_MAGIC = b"\x7fELF"
_SHARED_LIBRARY = re.compile(r"\.so(\.\d+)*$")
_EXTENSION = re.compile(
    r"\.cpython-(?P<version>\d)(?P<minor>\d+)-(?P<machine>[a-z0-9_]+)-linux-gnu\.so$"
)
_MAX_LISTED = 5


def _elf_machine(header: bytes) -> int | None:
    """``e_machine`` from the first 20 bytes of an ELF file, ``None`` when it is not ELF."""
    if len(header) < 20 or not header.startswith(_ELF_MAGIC):
        return None
    byte_order = "<" if header[5] == 1 else ">"  # EI_DATA: 1 little-endian, 2 big-endian
    return int(struct.unpack_from(f"{byte_order}H", header, 18)[0])


def _machine_name(machine: int) -> str:
    names = {number: name for name, number in ELF_MACHINES.items()}
    return names.get(machine, f"ELF machine {machine}")


def _wheel_tag_problems(name: str, text: str, architecture: str, python_version: str) -> list[str]:
    problems = []
    major, minor = python_version.split(".")
    target = f"cp{major}{minor}"
    machine = _MACHINE_NAMES[architecture]
    for line in text.splitlines():
        if not line.startswith("Tag:"):
            continue
        tag = line.split(":", 1)[1].strip()
        try:
            python_tag, abi_tag, platform_tag = tag.split("-")
        except ValueError:
            continue
        if platform_tag != "any":
            platforms = platform_tag.split(".")
            if not any(p.startswith("manylinux") and p.endswith(machine) for p in platforms):
                problems.append(
                    f"{name} is tagged {tag}: Lambda's {architecture} runtime needs a "
                    f"manylinux ..._{machine} wheel"
                )
                continue
        if abi_tag == "abi3":
            built_for = re.fullmatch(r"cp(\d)(\d+)", python_tag)
            if built_for and (built_for.group(1), int(built_for.group(2))) > (major, int(minor)):
                problems.append(f"{name} is tagged {tag}: it needs Python newer than {target}")
        elif python_tag.startswith("cp") and python_tag != target:
            problems.append(f"{name} is tagged {tag}: built for {python_tag}, not {target}")
    return problems


def zip_problems(path: Path, architecture: str, python_version: str) -> list[str]:
    """Why the zip at ``path`` would not run on ``architecture``/``python<python_version>``."""
    expected_machine = ELF_MACHINES[architecture]
    problems: list[str] = []
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename
            if info.is_dir():
                continue
            if name.endswith(".dist-info/WHEEL"):
                text = archive.read(info).decode("utf-8", "replace")
                problems += _wheel_tag_problems(name, text, architecture, python_version)
                continue
            if not _SHARED_LIBRARY.search(name):
                continue
            extension = _EXTENSION.search(name)
            if extension:
                version = f"{extension['version']}.{extension['minor']}"
                if version != python_version:
                    problems.append(f"{name} is compiled for Python {version}")
                if extension["machine"] != _MACHINE_NAMES[architecture]:
                    problems.append(f"{name} is compiled for {extension['machine']}")
            with archive.open(info) as handle:
                machine = _elf_machine(handle.read(20))
            if machine is None:
                problems.append(f"{name} is not a Linux (ELF) library")
            elif machine != expected_machine:
                problems.append(
                    f"{name} is an {_machine_name(machine)} library (ELF machine {machine}; "
                    f"{architecture} is {expected_machine})"
                )
    return problems


def describe_problems(path: Path, problems: list[str], architecture: str, runtime: str) -> str:
    """One readable paragraph: what is wrong (the first few files) and what to do."""
    listed = problems[:_MAX_LISTED]
    more = len(problems) - len(listed)
    return (
        f"--zip {path} was not built for {architecture}/{runtime}, which the stack would "
        "run it on; every invocation would fail on import:\n  "
        + "\n  ".join(listed)
        + (f"\n  ... and {more} more" if more > 0 else "")
        + f"\nBuild a matching zip with --package-only --arch {architecture} --runtime "
        f"{runtime}, or deploy with the --arch/--runtime the zip was built for."
    )
