"""HTTP for every source: one requests session, timeouts, retries with backoff, conditional
GETs (ETag / Last-Modified), a whole-response deadline, and downloads that stream to a
temporary file, verify size and checksum, resume, and move into place atomically.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from pipelines.deadline import DeadlineExceeded, within
from pipelines.errors import SourceError
from pipelines.logs import log_step, redact

RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}


class InvalidPayload(Exception):
    """Raised by a validator: the body arrived but is not what the source serves."""


class PayloadRefused(Exception):
    """Too big or too deep: the same answer would come again, so no retry."""


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


def json_depth(body: bytes) -> int:
    """How deeply a JSON text nests, without parsing it (strings removed first): a
    payload of a million nested arrays is refused before any parser recurses into it."""
    from itertools import accumulate

    skeleton = re.sub(rb'"(?:[^"\\]|\\.)*"', b"", body).translate(None, _NOT_BRACKETS)
    if not skeleton:
        return 0
    steps = skeleton.translate(_BRACKET_STEP)
    return max(accumulate(1 if b == 1 else -1 for b in steps))


_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_BRACKET_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\x02\x02")


def _is_json(body: bytes, content_type: str | None) -> bool:
    if content_type and "json" in content_type.lower():
        return True
    return body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")


def _certificate_problem(exc: Exception) -> str | None:
    text = str(exc)
    if isinstance(exc, requests.exceptions.SSLError) or "CERTIFICATE_VERIFY_FAILED" in text:
        detail = "certificat expiré" if "expired" in text else (
            "certificat auto-signé" if "self-signed" in text or "self signed" in text else (
                "nom du certificat différent de celui du serveur" if "hostname" in text or "match" in text
                else "certificat non reconnu"))
        return f"certificat TLS du serveur refusé ({detail}) : connexion non sécurisée, rien n'a été lu"
    return None


def _describe(exc: Exception) -> str:
    certificate = _certificate_problem(exc)
    if certificate:
        return certificate
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError | requests.exceptions.ReadTimeout):
        return "délai de réponse dépassé"
    if isinstance(exc, urllib3.exceptions.ProtocolError | urllib3.exceptions.DecodeError):
        return _describe_broken(str(exc).lower())
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "délai de connexion dépassé"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return _describe_connection(str(exc).lower())
    if isinstance(
        exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError
    ):
        return "réponse interrompue avant la fin"
    return exc.__class__.__name__


def _describe_broken(text: str) -> str:
    if "remotedisconnected" in text or "reset by peer" in text:
        return "connexion coupée par le serveur avant la fin de la réponse"
    return "réponse tronquée (interrompue avant la fin)"


def _describe_connection(text: str) -> str:
    if "remotedisconnected" in text or "aborted" in text or "reset by peer" in text:
        return "connexion coupée par le serveur avant la fin de la réponse"
    if "refused" in text:
        return "connexion refusée"
    if "name or service" in text or "resolve" in text or "nodename" in text:
        return "nom de serveur introuvable"
    if "incompleteread" in text or "connection broken" in text or "protocol" in text:
        return "réponse tronquée (interrompue avant la fin)"
    return "serveur injoignable"


@dataclass(frozen=True)
class _Wording:
    """The French sentences of one kind of request (a GET, a download); `{exc}`,
    `{problem}`, `{attempt}` and `{attempts}` are filled in."""

    refused: str  # a PayloadRefused: the same answer would come again, no retry
    deadline: str  # the attempt ran past http.total_timeout_seconds
    certificate: str  # a TLS certificate refused: the same next time, no retry
    attempt: str  # one failed attempt, logged
    failed: str  # every attempt failed


def _fill(template: str, **values) -> str:
    """`template` with its {name} slots filled; not str.format: an address may hold braces."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", str(value))
    return template


class _TrackingAdapter(HTTPAdapter):
    """Keeps the connections it opens, so that a deadline can cut one that is stuck in
    the middle of an answer (a status line or headers that drip)."""

    def __init__(self, live: set, **kwargs):
        self.live = live
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        live = self.live

        def tracking(base):
            class Connection(base):
                def connect(self):
                    super().connect()
                    live.add(self)
            return Connection

        self.poolmanager.pool_classes_by_scheme = {
            "http": type("Pool", (HTTPConnectionPool,), {"ConnectionCls": tracking(HTTPConnectionPool.ConnectionCls)}),
            "https": type("Pool", (HTTPSConnectionPool,),
                          {"ConnectionCls": tracking(HTTPSConnectionPool.ConnectionCls)}),
        }


class HttpClient:
    def __init__(self, settings, sleep: Callable[[float], None] = time.sleep):
        conf = settings.http
        self.connect_timeout = float(conf.connect_timeout_seconds)
        self.read_timeout = float(conf.read_timeout_seconds)
        self.total_timeout = float(conf.total_timeout_seconds)
        self.attempts = max(1, int(conf.attempts))
        self.backoff = float(conf.backoff_seconds)
        self.max_body = int(conf.max_response_bytes)
        self.max_download = int(conf.max_download_bytes)
        self.max_json_depth = int(conf.max_json_depth)
        self.downloads_root = Path(settings.downloads)
        self.user_agent = conf.user_agent
        self.sleep = sleep
        self._live: set = set()
        self.session = self._new_session()

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        session.headers["User-Agent"] = self.user_agent
        # Proxies from the environment would make loopback tests leave the machine.
        session.trust_env = False
        adapter = _TrackingAdapter(self._live)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def close(self) -> None:
        self.session.close()

    def _cut(self) -> None:
        """At the deadline: shut every open connection (the stuck read returns at once)
        and start the next attempt on a fresh session."""
        import socket

        for conn in list(self._live):
            sock = getattr(conn, "sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    continue
        self._live.clear()
        old, self.session = self.session, self._new_session()
        old.close()

    def _attempt(self, work: Callable[[], object], url: str):
        """One request, status line to last byte, within the total deadline."""
        return within(self.total_timeout + self.connect_timeout, work, "réponse", self._cut)

    def _read_body(self, response: requests.Response, started: float) -> bytes:
        chunks, size = [], 0
        for chunk in _chunks(response):
            chunks.append(chunk)
            size += len(chunk)  # decoded bytes: a gzip bomb is counted as it inflates
            if size > self.max_body:
                raise PayloadRefused(
                    f"réponse trop volumineuse (plus de {self.max_body} octets, http.max_response_bytes) : "
                    "lecture arrêtée")
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
        wording = _Wording(
            refused=f"La source {source_label} a envoyé une réponse refusée ({redact(url)}) : {{exc}}. "
                    "Les données déjà chargées restent en place.",
            deadline=f"réponse non terminée après {self.total_timeout:g} s (http.total_timeout_seconds)",
            certificate=f"La source {source_label} ({redact(url)}) : {{problem}}. "
                        "Les données déjà chargées restent en place.",
            attempt="tentative {attempt}/{attempts} échouée : {problem}",
            failed=f"La source {source_label} est injoignable ou répond mal ({redact(url)}) : {{problem}}, "
                   "après {attempts} tentatives. Les données déjà chargées restent en place.",
        )

        def one() -> Fetched:
            started = time.monotonic()
            with self.session.get(
                url, headers=headers, stream=True, timeout=(self.connect_timeout, self.read_timeout)
            ) as response:
                if response.status_code == 304:
                    return Fetched(url, 304, None, etag, last_modified)
                self._check_status(response.status_code, f"La source {source_label} a refusé la requête "
                                   f"{redact(url)} (code HTTP {{code}}) : vérifiez l'adresse configurée.")
                body = self._read_body(response, started)
                content_type = response.headers.get("Content-Type")
                if _is_json(body, content_type) and json_depth(body) > self.max_json_depth:
                    raise PayloadRefused(
                        f"réponse JSON imbriquée sur plus de {self.max_json_depth} niveaux "
                        "(http.max_json_depth) : refusée sans être lue")
                if validate:
                    validate(body, content_type)
                return Fetched(url, response.status_code, body, response.headers.get("ETag"),
                               response.headers.get("Last-Modified"), content_type)

        return self._retry(lambda: self._attempt(one, url), wording, source_label, url)

    @staticmethod
    def _check_status(code: int, refused: str, also_ok: tuple[int, ...] = ()) -> None:
        """A status worth another attempt, or a refusal (`refused`, {code} filled in)."""
        if code in RETRYABLE_STATUS:
            raise InvalidPayload(f"le serveur a répondu {code}")
        if code >= 400 and code not in also_ok:
            raise SourceError(_fill(refused, code=code))

    def _retry(self, attempt_once: Callable[[], object], wording: _Wording, source_label: str, url: str,
               on_refused: Callable[[], None] | None = None):
        """The one retry loop: `attempt_once()` until it returns, backing off between
        attempts. A SourceError, a refused payload or a refused certificate ends it at once."""
        last_problem = "erreur inconnue"
        for attempt in range(1, self.attempts + 1):
            try:
                return attempt_once()
            except SourceError:
                raise
            except PayloadRefused as exc:
                if on_refused:
                    on_refused()
                raise SourceError(_fill(wording.refused, exc=exc)) from None
            except DeadlineExceeded:
                last_problem = wording.deadline
            except InvalidPayload as exc:
                last_problem = str(exc)
            except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
                last_problem = _describe(exc)
                if _certificate_problem(exc):  # the same certificate next time: say it now
                    raise SourceError(_fill(wording.certificate, problem=last_problem)) from None
            self._after_failure(attempt, _fill(wording.attempt, attempt=attempt, attempts=self.attempts,
                                                      problem=last_problem), source_label, url)
        raise SourceError(_fill(wording.failed, problem=last_problem, attempts=self.attempts))

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
        root = self.downloads_root.resolve()
        if not dest.parent.resolve().joinpath(dest.name).is_relative_to(root) or dest.name in ("", ".", ".."):
            raise SourceError(
                f"Le fichier à télécharger depuis {source_label} serait écrit hors du dossier des "
                f"téléchargements ({root}) : refusé.")
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        progress = sys.stderr.isatty() if progress is None else progress
        wording = _Wording(
            refused=f"Le téléchargement de {dest.name} depuis {source_label} est refusé : {{exc}}. "
                    "Le fichier précédent est conservé.",
            deadline=f"téléchargement non terminé après {self.total_timeout:g} s",
            certificate=f"Le téléchargement depuis {source_label} ({redact(url)}) : {{problem}}. "
                        "Le fichier précédent est conservé.",
            attempt="téléchargement, tentative {attempt}/{attempts} : {problem}",
            failed=f"Le téléchargement de {dest.name} depuis {source_label} a échoué : {{problem}}, "
                   "après {attempts} tentatives. Le fichier précédent est conservé.",
        )

        def attempt_once() -> Path:
            offset = part.stat().st_size if part.exists() else 0
            if expected_size is not None and offset > expected_size:
                part.unlink()
                offset = 0
            headers = {"Range": f"bytes={offset}-"} if offset else {}

            def one() -> None:
                with self.session.get(
                    url, headers=headers, stream=True, timeout=(self.connect_timeout, self.read_timeout)
                ) as response:
                    self._check_status(response.status_code, f"La source {source_label} refuse le "
                                       f"téléchargement de {redact(url)} (code HTTP {{code}}).", also_ok=(416,))
                    start = offset
                    if response.status_code == 416 or (offset and response.status_code == 200):
                        # No (valid) range support: restart cleanly from zero.
                        part.unlink(missing_ok=True)
                        if response.status_code == 416:
                            raise InvalidPayload("reprise refusée par le serveur, téléchargement relancé")
                        start = 0
                    self._stream_to(response, part, "ab" if start else "wb", start, expected_size, progress,
                                    dest.name)

            self._attempt(one, url)
            return self._move_into_place(part, dest, source_label, expected_size, checksum)

        return self._retry(attempt_once, wording, source_label, url, on_refused=lambda: part.unlink(missing_ok=True))

    @staticmethod
    def _move_into_place(part: Path, dest: Path, source_label: str, expected_size: int | None,
                         checksum: tuple[str, str] | None) -> Path:
        """A complete `.part` checked then renamed; a short one is tried again (resumed)."""
        size = part.stat().st_size
        if expected_size is not None and size < expected_size:
            raise InvalidPayload(f"téléchargement incomplet ({size} octets sur {expected_size})")
        problem = _verify(part, expected_size, checksum)
        if problem is not None:
            part.unlink(missing_ok=True)
            raise SourceError(
                f"Le fichier {dest.name} téléchargé depuis {source_label} est refusé : {problem}. "
                "Le fichier précédent est conservé."
            )
        os.replace(part, dest)
        return dest

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
                written = offset
                for chunk in _chunks(response, 1 << 18):
                    written += len(chunk)  # decoded bytes: a compressed bomb is counted as it inflates
                    if written > self.max_download or (expected_size is not None and written > expected_size):
                        limit = expected_size if expected_size is not None and expected_size < self.max_download \
                            else self.max_download
                        raise PayloadRefused(f"fichier plus gros que prévu (plus de {limit} octets)")
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


_SAFE_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def local_name(identifier) -> str:
    """A file name stem made by Vigie from an identifier a server sent: the identifier
    itself when it is plainly safe, else a hash of it (never '..', '/', or a dot file)."""
    text = str(identifier)
    if _SAFE_STEM.fullmatch(text):
        return text
    return "id-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


class Pages:
    """Follows a paginated API: at most `limit` pages, and a page already seen (a next
    page equal to itself, or a cycle) ends it with a French error instead of looping."""

    def __init__(self, source_label: str, limit: int = 1000):
        self.source_label, self.limit, self.seen = source_label, limit, set()

    def check(self, url: str) -> str:
        if url in self.seen:
            raise SourceError(f"La source {self.source_label} renvoie vers une page déjà lue ({redact(url)}) : "
                              "pagination en boucle, arrêtée. Les données déjà chargées restent en place.")
        if len(self.seen) >= self.limit:
            raise SourceError(f"La source {self.source_label} annonce plus de {self.limit} pages : pagination "
                              "arrêtée. Les données déjà chargées restent en place.")
        self.seen.add(url)
        return url


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
