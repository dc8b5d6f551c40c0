"""The Lambda packager: where it finds the source, and that its zips are reproducible.

Tests marked ``registry`` download real Pillow wheels (CI runs them); the rest
build source-only zips and need nothing from outside.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from async_image_upload.infra.package import (
    FIXED_DATE_TIME,
    MAX_UNZIPPED_BYTES,
    LambdaPackage,
    PackagingError,
    build_lambda_zip,
    cache_key,
    check_limits,
    default_requirements,
    lambda_source_dir,
    pip_install_command,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake_source(tmp_path) -> Path:
    """A small lambda_function/ with the clutter a developer's checkout has."""
    source = tmp_path / "src" / "lambda_function"
    (source / "__pycache__").mkdir(parents=True)
    (source / "__init__.py").write_text("")
    (source / "handler.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    (source / "data").mkdir()
    (source / "data" / "profile.icc").write_bytes(b"\x00\x01icc")
    (source / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"junk")
    (source / "handler.pyc").write_bytes(b"junk")
    return source


def test_source_is_found_in_a_checkout():
    assert lambda_source_dir() == REPO / "lambda_function"


def test_source_in_an_installed_wheel_wins(tmp_path):
    """The wheel maps lambda_function/ to async_image_upload/_lambda_source/ (pyproject)."""
    package_dir = tmp_path / "site-packages" / "async_image_upload"
    wheel_copy = package_dir / "_lambda_source" / "lambda_function"
    wheel_copy.mkdir(parents=True)
    (wheel_copy / "__init__.py").write_text("")
    assert lambda_source_dir(package_dir) == wheel_copy


def test_missing_source_is_a_readable_error(tmp_path):
    with pytest.raises(PackagingError, match="cannot find the Lambda source"):
        lambda_source_dir(tmp_path / "async_image_upload")


def test_pip_asks_for_both_manylinux_tags_and_binary_wheels_only(tmp_path):
    command = pip_install_command(["Pillow==13.0.0"], tmp_path, "arm64", "3.12")
    joined = " ".join(command)
    assert "--platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64" in joined
    assert "--only-binary=:all:" in command
    assert "--implementation cp" in joined
    assert "--python-version 3.12" in joined
    assert "--no-compile" in command
    assert command[-1] == "Pillow==13.0.0"


def test_requirements_are_pinned_and_heif_is_optional(fake_source):
    with_heif = default_requirements(fake_source, heif=True)
    without = default_requirements(fake_source, heif=False)
    assert all("==" in r for r in with_heif)
    assert any(r.lower().startswith("pillow-heif") for r in with_heif)
    assert not any(r.lower().startswith("pillow-heif") for r in without)


def test_source_only_zip_is_byte_identical_on_rebuild(fake_source, tmp_path):
    first = build_lambda_zip(
        architecture="arm64", python_version="3.12", source_dir=fake_source,
        requirements=(), cache_dir=tmp_path / "cache-a",
    )  # fmt: skip
    # Touch every file: timestamps must not leak into the zip.
    for path in fake_source.rglob("*"):
        path.touch()
    second = build_lambda_zip(
        architecture="arm64", python_version="3.12", source_dir=fake_source,
        requirements=(), cache_dir=tmp_path / "cache-b",
    )  # fmt: skip
    assert first.path != second.path
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256 == second.sha256
    assert first.s3_key("lambda/") == f"lambda/arm64/{first.sha256}.zip"


def test_concurrent_builds_of_one_key_all_succeed(fake_source, tmp_path):
    """Two pytest-xdist workers (or two deploys) building the same zip at once.

    Each writes a partial file of its own; they used to share one name, and the
    slower rename failed with FileNotFoundError.
    """
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    cache = tmp_path / "cache"
    start = Barrier(8)

    def build(_: int):
        start.wait()
        return build_lambda_zip(
            architecture="arm64", python_version="3.12", source_dir=fake_source,
            requirements=(), cache_dir=cache,
        )  # fmt: skip

    with ThreadPoolExecutor(8) as pool:
        packages = list(pool.map(build, range(8)))
    assert len({package.sha256 for package in packages}) == 1
    assert [path.name for path in cache.iterdir()] == [packages[0].path.name]
    assert packages[0].path.stat().st_mode & 0o777 == 0o644


def test_zip_layout_entries_are_sorted_with_fixed_times_and_modes(fake_source, tmp_path):
    package = build_lambda_zip(
        architecture="x86_64", python_version="3.12", source_dir=fake_source,
        requirements=(), cache_dir=tmp_path,
    )  # fmt: skip
    with zipfile.ZipFile(package.path) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert names == [
        "lambda_function/__init__.py",
        "lambda_function/data/profile.icc",
        "lambda_function/handler.py",
    ]
    assert {info.date_time for info in infos} == {FIXED_DATE_TIME}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}


def test_cache_is_keyed_by_content(fake_source, tmp_path):
    key = cache_key(fake_source, ("Pillow==13.0.0",), "arm64", "3.12")
    assert key != cache_key(fake_source, ("Pillow==13.0.0",), "x86_64", "3.12")
    assert key != cache_key(fake_source, ("Pillow==13.0.0",), "arm64", "3.13")
    (fake_source / "__pycache__" / "other.pyc").write_bytes(b"more junk")
    assert key == cache_key(fake_source, ("Pillow==13.0.0",), "arm64", "3.12")
    (fake_source / "handler.py").write_text("def lambda_handler(event, context):\n    return 2\n")
    assert key != cache_key(fake_source, ("Pillow==13.0.0",), "arm64", "3.12")


def test_a_cached_zip_is_reused_without_rebuilding(fake_source, tmp_path):
    first = build_lambda_zip(
        architecture="arm64", python_version="3.12", source_dir=fake_source,
        requirements=(), cache_dir=tmp_path,
    )  # fmt: skip
    mtime = first.path.stat().st_mtime_ns
    again = build_lambda_zip(
        architecture="arm64", python_version="3.12", source_dir=fake_source,
        requirements=(), cache_dir=tmp_path,
    )  # fmt: skip
    assert again == first
    assert again.path.stat().st_mtime_ns == mtime


def test_a_package_over_lambdas_limit_is_refused(tmp_path):
    too_big = LambdaPackage(
        path=tmp_path / "x.zip", sha256="0" * 64, zipped_bytes=40 * 2**20,
        unzipped_bytes=MAX_UNZIPPED_BYTES + 1, architecture="arm64", python_version="3.12",
    )  # fmt: skip
    with pytest.raises(PackagingError, match="Lambda allows 250 MiB"):
        check_limits(too_big)


def test_pip_failure_is_a_readable_error(fake_source, tmp_path):
    with pytest.raises(PackagingError, match="pip could not fetch"):
        build_lambda_zip(
            architecture="arm64", python_version="3.12", source_dir=fake_source,
            requirements=("definitely-not-a-real-package-name-xyz==0.0.0",),
            cache_dir=tmp_path,
        )  # fmt: skip


def differing_entries(first: LambdaPackage, second: LambdaPackage) -> list[str]:
    """Names whose bytes differ: says what leaked into the zip when a rebuild differs."""
    with zipfile.ZipFile(first.path) as a, zipfile.ZipFile(second.path) as b:
        names = sorted(set(a.namelist()) | set(b.namelist()))
        return [n for n in names if n not in a.namelist() or n not in b.namelist()
                or a.read(n) != b.read(n)]  # fmt: skip


@pytest.mark.registry
@pytest.mark.parametrize("architecture", ["arm64", "x86_64"])
def test_real_zip_builds_under_the_limits_and_is_reproducible(architecture, tmp_path):
    first = build_lambda_zip(
        architecture=architecture, python_version="3.12", cache_dir=tmp_path / "a"
    )
    second = build_lambda_zip(
        architecture=architecture, python_version="3.12", cache_dir=tmp_path / "b"
    )
    assert first.path.read_bytes() == second.path.read_bytes(), differing_entries(first, second)
    assert first.unzipped_bytes < MAX_UNZIPPED_BYTES
    with zipfile.ZipFile(first.path) as archive:
        names = set(archive.namelist())
    assert "lambda_function/handler.py" in names
    assert "PIL/Image.py" in names
    assert any(name.startswith("pillow_heif/") for name in names)
    machine = "aarch64" if architecture == "arm64" else "x86_64"
    native = [n for n in names if n.startswith("PIL/_imaging.") and n.endswith(".so")]
    assert native and all(machine in n for n in native), native
    assert not any(name.endswith(".pyc") for name in names)


@pytest.mark.registry
@pytest.mark.skipif(
    __import__("platform").machine() != "x86_64", reason="imports native x86_64 wheels"
)
def test_x86_64_zip_for_the_host_python_imports_the_handler(tmp_path):
    host_python = f"{sys.version_info.major}.{sys.version_info.minor}"
    package = build_lambda_zip(
        architecture="x86_64", python_version=host_python, cache_dir=tmp_path / "cache"
    )
    unpacked = tmp_path / "task"
    with zipfile.ZipFile(package.path) as archive:
        archive.extractall(unpacked)
    # The unpacked zip goes first on sys.path, as in /var/task; boto3 comes from the
    # runtime (here: this venv), Pillow must come from the zip.
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import lambda_function.handler as h, PIL.Image, pillow_heif;"
        "assert callable(h.lambda_handler);"
        "assert PIL.Image.__file__.startswith(sys.argv[1]), PIL.Image.__file__;"
        "print(PIL.__version__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(unpacked)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
