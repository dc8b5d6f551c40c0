"""``--zip`` is read before it is trusted: ELF machines, wheel tags and ABI names must match.

The zips are built here, with 64-byte ELF headers standing in for real libraries
(only the header is read).
"""

from __future__ import annotations

import struct
import zipfile

import pytest
from django.core.management import CommandError

from async_image_upload.infra.zip_inspect import zip_problems
from tests.infra.deploy_command import run
from tests.infra.moto_support import (  # noqa: F401 (an autouse fixture)
    MOTO_UNSUPPORTED_RESOURCES,
    moto_requests_come_over_tls,
)

pytestmark = pytest.mark.filterwarnings(MOTO_UNSUPPORTED_RESOURCES)

X86_64, AARCH64 = 62, 183


def elf_header(machine: int, *, big_endian: bool = False) -> bytes:
    """A 64-byte ELF64 header for a shared object (ET_DYN) on ``machine``."""
    order = ">" if big_endian else "<"
    ident = b"\x7fELF" + bytes([2, 2 if big_endian else 1, 1, 0]) + b"\x00" * 8
    rest = struct.pack(f"{order}HHIQQQIHHHHHH", 3, machine, 1, 0, 64, 0, 0, 64, 56, 0, 64, 0, 0)
    header = ident + rest
    assert len(header) == 64
    return header


def wheel(tag: str) -> str:
    return f"Wheel-Version: 1.0\nGenerator: bdist_wheel\nRoot-Is-Purelib: false\nTag: {tag}\n"


def build_zip(tmp_path, files: dict[str, bytes | str], name: str = "lambda.zip"):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("lambda_function/__init__.py", "")
        for file_name, data in files.items():
            archive.writestr(file_name, data)
    return path


def pillow(machine: int, abi: str, platform: str) -> dict[str, bytes | str]:
    """What pip puts in the zip for Pillow: an extension module, a vendored lib, the WHEEL."""
    name = "x86_64" if machine == X86_64 else "aarch64"
    return {
        f"PIL/_imaging.{abi}-{name}-linux-gnu.so": elf_header(machine) + b"\x00" * 100,
        "pillow.libs/libjpeg-1a2b3c.so.62.4.0": elf_header(machine),
        "pillow-13.0.0.dist-info/WHEEL": wheel(f"cp312-cp312-{platform}"),
    }


def test_a_zip_built_for_the_target_passes(tmp_path):
    path = build_zip(tmp_path, pillow(AARCH64, "cpython-312", "manylinux_2_28_aarch64"))
    assert zip_problems(path, "arm64", "3.12") == []
    path = build_zip(tmp_path, pillow(X86_64, "cpython-312", "manylinux_2_28_x86_64"), "x.zip")
    assert zip_problems(path, "x86_64", "3.12") == []


def test_the_elf_machine_of_every_shared_library_is_read(tmp_path):
    files = pillow(X86_64, "cpython-312", "manylinux_2_28_x86_64")
    problems = zip_problems(build_zip(tmp_path, files), "arm64", "3.12")
    assert (
        "pillow.libs/libjpeg-1a2b3c.so.62.4.0 is an x86_64 library (ELF machine 62; arm64 is 183)"
        in problems
    )
    assert any(
        p.startswith("PIL/_imaging.cpython-312-x86_64-linux-gnu.so is compiled for x86_64")
        for p in problems
    )
    assert any("manylinux ..._aarch64 wheel" in p for p in problems)


def test_a_library_renamed_to_look_right_is_still_caught_by_its_header(tmp_path):
    files = {"PIL/_imaging.cpython-312-aarch64-linux-gnu.so": elf_header(X86_64)}
    (problem,) = zip_problems(build_zip(tmp_path, files), "arm64", "3.12")
    assert "is an x86_64 library (ELF machine 62" in problem


def test_big_endian_headers_are_read_in_their_byte_order(tmp_path):
    files = {"lib/libodd.so": elf_header(AARCH64, big_endian=True)}
    assert zip_problems(build_zip(tmp_path, files), "arm64", "3.12") == []


def test_a_library_that_is_not_elf_was_built_for_another_os(tmp_path):
    files = {"PIL/_imaging.cpython-312-darwin.so": b"\xcf\xfa\xed\xfe" + b"\x00" * 60}
    (problem,) = zip_problems(build_zip(tmp_path, files), "arm64", "3.12")
    assert problem == "PIL/_imaging.cpython-312-darwin.so is not a Linux (ELF) library"


def test_the_python_version_must_match_the_runtime(tmp_path):
    files = pillow(AARCH64, "cpython-313", "manylinux_2_28_aarch64")
    files["pillow-13.0.0.dist-info/WHEEL"] = wheel("cp313-cp313-manylinux_2_28_aarch64")
    problems = zip_problems(build_zip(tmp_path, files), "arm64", "3.12")
    assert "PIL/_imaging.cpython-313-aarch64-linux-gnu.so is compiled for Python 3.13" in problems
    assert any("built for cp313, not cp312" in p for p in problems)


def test_abi3_and_pure_python_wheels_are_accepted_where_they_run(tmp_path):
    files = {
        "a-1.dist-info/WHEEL": wheel("cp38-abi3-manylinux_2_17_aarch64.manylinux2014_aarch64"),
        "b-1.dist-info/WHEEL": wheel("py3-none-any"),
        "c-1.dist-info/WHEEL": wheel("cp313-abi3-manylinux_2_28_aarch64"),
        "d-1.dist-info/WHEEL": wheel("cp312-cp312-musllinux_1_2_aarch64"),
    }
    problems = zip_problems(build_zip(tmp_path, files), "arm64", "3.12")
    assert problems == [
        "c-1.dist-info/WHEEL is tagged cp313-abi3-manylinux_2_28_aarch64: it needs Python "
        "newer than cp312",
        "d-1.dist-info/WHEEL is tagged cp312-cp312-musllinux_1_2_aarch64: Lambda's arm64 "
        "runtime needs a manylinux ..._aarch64 wheel",
    ]


def test_the_command_refuses_a_mismatched_zip_before_uploading_it(aws, clients, tmp_path):
    path = build_zip(tmp_path, pillow(X86_64, "cpython-312", "manylinux_2_28_x86_64"))
    with pytest.raises(CommandError) as refused:
        run("--endpoint-url", aws, "--yes", "--zip", str(path), "--arch", "arm64",
            "--new-bucket", "fresh-uploads")  # fmt: skip
    message = str(refused.value)
    assert message.startswith(f"--zip {path} was not built for arm64/python3.12")
    assert "ELF machine 62; arm64 is 183" in message
    assert "--package-only --arch arm64 --runtime python3.12" in message
    assert clients("s3").list_buckets()["Buckets"] == []  # not even the artifacts bucket
    assert clients("cloudformation").list_stacks()["StackSummaries"] == []
