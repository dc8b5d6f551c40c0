"""Build the Lambda's zip: ``lambda_function/`` plus Pillow wheels for the target.

Why it works the way it does:

* Wheels come from ``pip install --target`` with ``--only-binary=:all:``,
  ``--implementation cp``, ``--python-version`` and *both* ``manylinux2014_<arch>``
  and ``manylinux_2_28_<arch>``: with only the older tag pip silently falls back
  to an old Pillow that still shipped manylinux2014 wheels.
* The zip is deterministic (sorted entries, fixed timestamps and modes, no
  ``.pyc``), so the same inputs give the same bytes and the same SHA-256, the S3
  key is that hash, and a redeploy without changes changes nothing.
* Builds are cached by a hash of the inputs (source files, pinned requirements,
  architecture, Python version), so a deploy does not run pip when nothing changed.
* The source is found inside the installed package
  (``async_image_upload/_lambda_source/lambda_function``, see pyproject's
  force-include) or, in a source checkout, at the repository root. Nothing
  imports it, so no top-level ``lambda_function`` module is needed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

#: Bump when the zip layout changes, so old cache entries are not reused.
PACKAGER_VERSION = "1"
#: Pinned so the same source always yields the same zip; lambda_function/requirements.txt
#: overrides these when it exists.
DEFAULT_REQUIREMENTS = ("Pillow==13.0.0",)
HEIF_REQUIREMENTS = ("pillow-heif==1.8.1",)
#: Lambda's limit: 250 MB unzipped (code plus layers). The 50 MB limit on a zip
#: uploaded directly does not apply: the deploy passes the zip through S3.
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024
#: Zip's epoch; any fixed value makes the archive reproducible.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644 << 16
_SKIP_NAMES = {"__pycache__", ".DS_Store", "tests", ".pytest_cache"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}
_PIP_ARCH = {"arm64": "aarch64", "x86_64": "x86_64"}


class PackagingError(RuntimeError):
    """The zip could not be built or breaks a Lambda limit; the message says why."""


@dataclass(frozen=True)
class LambdaPackage:
    """A built zip and the facts a deploy needs about it."""

    path: Path
    sha256: str
    zipped_bytes: int
    unzipped_bytes: int
    architecture: str
    python_version: str

    def s3_key(self, prefix: str = "") -> str:
        """Content-addressed key: a changed package always gets a new key."""
        return f"{prefix}{self.architecture}/{self.sha256}.zip"


def lambda_source_dir(package_dir: Path | None = None) -> Path:
    """Where ``lambda_function/`` lives: in the installed wheel or the source checkout.

    ``package_dir`` is the ``async_image_upload`` directory (tests pass another).
    """
    package_dir = package_dir or Path(__file__).resolve().parents[1]
    candidates = [
        package_dir / "_lambda_source" / "lambda_function",  # installed wheel
        package_dir.parent / "lambda_function",  # source checkout / editable install
    ]
    for candidate in candidates:
        if (candidate / "__init__.py").is_file():
            return candidate
    raise PackagingError(
        "cannot find the Lambda source; looked in " + ", ".join(str(c) for c in candidates)
    )


def default_requirements(source_dir: Path, *, heif: bool) -> tuple[str, ...]:
    """Pinned requirements: ``requirements.txt`` next to the source, else the defaults."""
    requirements_file = source_dir / "requirements.txt"
    if requirements_file.is_file():
        lines = requirements_file.read_text().splitlines()
        pinned = tuple(
            line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()
        )
        if not heif:
            pinned = tuple(r for r in pinned if not r.lower().startswith("pillow-heif"))
        return pinned
    return DEFAULT_REQUIREMENTS + (HEIF_REQUIREMENTS if heif else ())


def _source_files(root: Path) -> list[tuple[str, Path]]:
    """(archive name relative to ``root``, path) for every file worth shipping, sorted."""
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_NAMES)
        for filename in filenames:
            path = Path(dirpath) / filename
            if filename in _SKIP_NAMES or path.suffix in _SKIP_SUFFIXES:
                continue
            files.append((path.relative_to(root).as_posix(), path))
    return sorted(files)


def cache_key(
    source_dir: Path, requirements: Sequence[str], architecture: str, python_version: str
) -> str:
    """Hash of everything that goes into the zip; equal keys mean equal zips."""
    digest = hashlib.sha256()
    for part in (PACKAGER_VERSION, architecture, python_version, *requirements):
        digest.update(part.encode() + b"\0")
    for name, path in _source_files(source_dir):
        if name == "requirements.txt":
            continue
        digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def pip_install_command(
    requirements: Sequence[str], target: Path, architecture: str, python_version: str
) -> list[str]:
    """The pip command that fetches Linux wheels for the Lambda, whatever the host is."""
    arch = _PIP_ARCH[architecture]
    return [
        sys.executable, "-m", "pip", "install",
        "--target", str(target),
        "--only-binary=:all:",
        "--implementation", "cp",
        "--python-version", python_version,
        "--platform", f"manylinux2014_{arch}",
        "--platform", f"manylinux_2_28_{arch}",
        "--no-compile",
        "--disable-pip-version-check",
        "--quiet",
        *requirements,
    ]  # fmt: skip


def write_deterministic_zip(entries: Iterable[tuple[str, Path]], destination: Path) -> int:
    """Write ``entries`` sorted, with fixed timestamps and modes; return unzipped bytes."""
    unzipped = 0
    with zipfile.ZipFile(destination, "w") as archive:
        for name, path in sorted(entries):
            data = path.read_bytes()
            unzipped += len(data)
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.create_system = 3  # Unix, so the mode bits are honoured everywhere
            info.external_attr = _FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=9)
    return unzipped


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _describe(path: Path, architecture: str, python_version: str) -> LambdaPackage:
    with zipfile.ZipFile(path) as archive:
        unzipped = sum(info.file_size for info in archive.infolist())
    package = LambdaPackage(
        path=path,
        sha256=_sha256(path),
        zipped_bytes=path.stat().st_size,
        unzipped_bytes=unzipped,
        architecture=architecture,
        python_version=python_version,
    )
    check_limits(package)
    return package


def check_limits(package: LambdaPackage) -> None:
    """Refuse a zip Lambda would reject, before CloudFormation spends minutes finding out."""
    if package.unzipped_bytes > MAX_UNZIPPED_BYTES:
        raise PackagingError(
            f"the Lambda package unzips to {package.unzipped_bytes / 2**20:.1f} MiB; Lambda "
            f"allows {MAX_UNZIPPED_BYTES / 2**20:.0f} MiB. Turn off HEIC support (--no-heif) "
            "or trim lambda_function/requirements.txt."
        )


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "django-async-image-upload" / "lambda"


def build_lambda_zip(
    *,
    architecture: str,
    python_version: str,
    heif: bool = True,
    source_dir: Path | None = None,
    requirements: Sequence[str] | None = None,
    cache_dir: Path | None = None,
) -> LambdaPackage:
    """Build (or reuse from the cache) the zip for ``architecture`` and ``python_version``.

    ``requirements`` overrides the pinned wheels; ``()`` builds a source-only zip
    (used by tests that deploy to an emulator that never runs the code).
    """
    if architecture not in _PIP_ARCH:
        raise PackagingError(f"unknown architecture {architecture!r}")
    source_dir = source_dir or lambda_source_dir()
    if requirements is None:
        requirements = default_requirements(source_dir, heif=heif)
    cache_dir = cache_dir or default_cache_dir()
    key = cache_key(source_dir, requirements, architecture, python_version)
    cached = cache_dir / f"{key}.zip"
    if cached.is_file():
        return _describe(cached, architecture, python_version)

    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="async-image-upload-lambda-") as tmp:
        deps = Path(tmp) / "deps"
        entries: list[tuple[str, Path]] = []
        if requirements:
            command = pip_install_command(requirements, deps, architecture, python_version)
            result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
            if result.returncode != 0:
                raise PackagingError(
                    f"pip could not fetch {', '.join(requirements)} for {architecture}/"
                    f"python{python_version}:\n{result.stderr.strip()}"
                )
            # pip's own bookkeeping for a --target install is not needed at run time.
            entries += [(n, p) for n, p in _source_files(deps) if not n.startswith("bin/")]
        entries += [
            (f"lambda_function/{name}", path)
            for name, path in _source_files(source_dir)
            if name != "requirements.txt"
        ]
        # A partial file of this build's own: concurrent builds of the same key (two
        # test workers, two deploys) each write theirs, and the last rename wins
        # with identical bytes (the zip is deterministic).
        handle, name = tempfile.mkstemp(dir=cache_dir, prefix=f"{key}.", suffix=".zip.partial")
        os.close(handle)
        partial = Path(name)
        try:
            write_deterministic_zip(entries, partial)
            partial.chmod(0o644)  # mkstemp's 0600 is for the partial file only
            partial.replace(cached)  # atomic: a concurrent build never sees half a zip
        finally:
            partial.unlink(missing_ok=True)
    return _describe(cached, architecture, python_version)
