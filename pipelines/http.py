"""HTTP for every source: one requests session, timeouts, retries with backoff, conditional
GETs (ETag / Last-Modified), a whole-response deadline, and downloads that stream to a
temporary file, verify size and checksum, resume, and move into place atomically.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests
import urllib3

from pipelines.errors import SourceError
from pipelines.logs import log_step, redact

RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}


class InvalidPayload(Exception):
    """Raised by a validator: the body arrived but is not what the source serves."""


@dataclass
class Fetched:
    url: str
    status: int  # 200 or 304
    body: bytes | None
    etag: str | None
    last_modified: str | None
    content_type: str | None = None


def _chunks(response: requests.Response, size: int = 1 << 16):
    """The body as it arrives: at most one socket read per chunk, so a caller's deadline
    is checked even when a server drips its answer byte by byte."""
    raw = response.raw
    while True:
        data = raw.read1(size, decode_content=True)
        if not data:
            return
        yield data


def _describe(exc: Exception) -> str:
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return "délai de réponse dépassé"
    if isinstance(exc, urllib3.exceptions.ProtocolError | urllib3.exceptions.DecodeError):
        text = str(exc).lower()
        if "remotedisconnected" in text or "reset by peer" in text:
            return "connexion coupée par le serveur avant la fin de la réponse"
        return "réponse tronquée (interrompue avant la fin)"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "délai de connexion dépassé"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "délai de réponse dépassé"
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc).lower()
        if "remotedisconnected" in text or "aborted" in text or "reset by peer" in text:
            return "connexion coupée par le serveur avant la fin de la réponse"
        if "refused" in text:
            return "connexion refusée"
        if "name or service" in text or "resolve" in text or "nodename" in text:
            return "nom de serveur introuvable"
        if "incompleteread" in text or "connection broken" in text or "protocol" in text:
            return "réponse tronquée (interrompue avant la fin)"
        return "serveur injoignable"
    if isinstance(
        exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError
    ):
        return "réponse interrompue avant la fin"
    return exc.__class__.__name__


class HttpClient:
    def __init__(self, settings, sleep: Callable[[float], None] = time.sleep):
        conf = settings.section("http")
        self.connect_timeout = float(conf.get("connect_timeout_seconds", 10))
        self.read_timeout = float(conf.get("read_timeout_seconds", 60))
        self.total_timeout = float(conf.get("total_timeout_seconds", 600))
        self.attempts = max(1, int(conf.get("attempts", 4)))
        self.backoff = float(conf.get("backoff_seconds", 1.0))
        self.sleep = sleep
        self.session = requests.Session()
        self.session.headers["User-Agent"] = conf.get("user_agent", "vigie")
        # Proxies from the environment would make loopback tests leave the machine.
        self.session.trust_env = False

    def close(self) -> None:
        self.session.close()

    def _read_body(self, response: requests.Response, started: float) -> bytes:
        chunks, size = [], 0
        for chunk in _chunks(response):
            chunks.append(chunk)
            size += len(chunk)
            if time.monotonic() - started > self.total_timeout:
                raise InvalidPayload(f"réponse trop lente (plus de {int(self.total_timeout)} s)")
        body = b"".join(chunks)
        expected = response.headers.get("Content-Length")
        if (
            expected
            and expected.isdigit()
            and "Content-Encoding" not in response.headers
            and int(expected) != size
        ):
            raise InvalidPayload(f"réponse tronquée ({size} octets reçus sur {expected} annoncés)")
        return body

    def get(
        self,
        url: str,
        source_label: str,
        etag: str | None = None,
        last_modified: str | None = None,
        validate: Callable[[bytes, str | None], None] | None = None,
    ) -> Fetched:
        """GET with retries. 304 when the cached validators still hold.

        Raises SourceError (French, naming the source) once every attempt failed.
        """
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        last_problem = "erreur inconnue"
        for attempt in range(1, self.attempts + 1):
            started = time.monotonic()
            try:
                with self.session.get(
                    url,
                    headers=headers,
                    stream=True,
                    timeout=(self.connect_timeout, self.read_timeout),
                ) as response:
                    if response.status_code == 304:
                        return Fetched(url, 304, None, etag, last_modified)
                    if response.status_code in RETRYABLE_STATUS:
                        raise InvalidPayload(f"le serveur a répondu {response.status_code}")
                    if response.status_code >= 400:
                        raise SourceError(
                            f"La source {source_label} a refusé la requête {redact(url)} "
                            f"(code HTTP {response.status_code}) : vérifiez l'adresse configurée."
                        )
                    body = self._read_body(response, started)
                    content_type = response.headers.get("Content-Type")
                    if validate:
                        validate(body, content_type)
                    return Fetched(
                        url,
                        response.status_code,
                        body,
                        response.headers.get("ETag"),
                        response.headers.get("Last-Modified"),
                        content_type,
                    )
            except SourceError:
                raise
            except InvalidPayload as exc:
                last_problem = str(exc)
            except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
                last_problem = _describe(exc)
            self._after_failure(attempt, f"tentative {attempt}/{self.attempts} échouée : {last_problem}",
                                source_label, url)
        raise SourceError(
            f"La source {source_label} est injoignable ou répond mal ({redact(url)}) : {last_problem}, "
            f"après {self.attempts} tentatives. Les données déjà chargées restent en place."
        )

    def _after_failure(self, attempt: int, message: str, source_label: str, url: str) -> None:
        """Log the failed attempt, then back off exponentially unless it was the last."""
        log_step("http", message, 30, source=source_label, url=redact(url))
        if attempt < self.attempts:
            self.sleep(self.backoff * 2 ** (attempt - 1))

    # ------------------------------------------------------------ downloads

    def download(
        self,
        url: str,
        dest: Path,
        source_label: str,
        expected_size: int | None = None,
        checksum: tuple[str, str] | None = None,
        progress: bool | None = None,
    ) -> Path:
        """Stream `url` to `dest`: a `.part` file first (resumed with Range when the
        server allows it), then size and checksum checks, then an atomic rename.
        On any failure `dest` is untouched; a bad `.part` is removed."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        progress = sys.stderr.isatty() if progress is None else progress
        last_problem = "erreur inconnue"
        for attempt in range(1, self.attempts + 1):
            offset = part.stat().st_size if part.exists() else 0
            if expected_size is not None and offset > expected_size:
                part.unlink()
                offset = 0
            headers = {"Range": f"bytes={offset}-"} if offset else {}
            try:
                with self.session.get(
                    url,
                    headers=headers,
                    stream=True,
                    timeout=(self.connect_timeout, self.read_timeout),
                ) as response:
                    if response.status_code in RETRYABLE_STATUS:
                        raise InvalidPayload(f"le serveur a répondu {response.status_code}")
                    if response.status_code >= 400 and response.status_code != 416:
                        raise SourceError(
                            f"La source {source_label} refuse le téléchargement de {redact(url)} "
                            f"(code HTTP {response.status_code})."
                        )
                    if response.status_code == 416 or (offset and response.status_code == 200):
                        # No (valid) range support: restart cleanly from zero.
                        part.unlink(missing_ok=True)
                        if response.status_code == 416:
                            raise InvalidPayload(
                                "reprise refusée par le serveur, téléchargement relancé"
                            )
                        offset = 0
                    mode = "ab" if offset else "wb"
                    self._stream_to(
                        response, part, mode, offset, expected_size, progress, dest.name
                    )
            except SourceError:
                raise
            except InvalidPayload as exc:
                last_problem = str(exc)
            except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
                last_problem = _describe(exc)
            else:
                size = part.stat().st_size
                if expected_size is not None and size < expected_size:
                    last_problem = f"téléchargement incomplet ({size} octets sur {expected_size})"
                else:
                    problem = _verify(part, expected_size, checksum)
                    if problem is None:
                        os.replace(part, dest)
                        return dest
                    part.unlink(missing_ok=True)
                    raise SourceError(
                        f"Le fichier {dest.name} téléchargé depuis {source_label} est refusé : {problem}. "
                        "Le fichier précédent est conservé."
                    )
            self._after_failure(attempt, f"téléchargement, tentative {attempt}/{self.attempts} : {last_problem}",
                                source_label, url)
        raise SourceError(
            f"Le téléchargement de {dest.name} depuis {source_label} a échoué : {last_problem}, "
            f"après {self.attempts} tentatives. Le fichier précédent est conservé."
        )

    def _stream_to(
        self, response, part: Path, mode: str, offset: int, expected_size, progress: bool, name: str
    ):
        started = time.monotonic()
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(
                total=expected_size,
                initial=offset,
                unit="o",
                unit_scale=True,
                desc=name,
                leave=False,
            )
        try:
            with open(part, mode) as fh:
                for chunk in _chunks(response, 1 << 18):
                    fh.write(chunk)
                    if bar:
                        bar.update(len(chunk))
                    if time.monotonic() - started > self.total_timeout:
                        raise InvalidPayload(
                            f"téléchargement trop lent (plus de {int(self.total_timeout)} s)"
                        )
                fh.flush()
                os.fsync(fh.fileno())
        finally:
            if bar:
                bar.close()


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _verify(path: Path, expected_size: int | None, checksum: tuple[str, str] | None) -> str | None:
    size = path.stat().st_size
    if expected_size is not None and size != expected_size:
        return f"taille {size} octets au lieu des {expected_size} annoncés"
    if checksum and checksum[1]:
        algorithm = checksum[0].lower().replace("-", "")
        if algorithm not in hashlib.algorithms_available:
            return f"type d'empreinte inconnu ({checksum[0]})"
        actual = file_digest(path, algorithm)
        if actual.lower() != checksum[1].lower():
            return f"empreinte {checksum[0]} différente de celle annoncée par data.gouv.fr"
    return None
