# -*- coding: utf-8 -*-
# Copyright: netboot.coreos contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The JSON-over-HTTP transport the Rancher and Kubernetes clients share.

One call (``JsonApiClient.request``): ``open_url`` with TLS verification (``ca_path``, client certificate),
the environment's proxy, retries with backoff on 5xx and timeouts, and errors that name the server and the
call but never a credential. Subclasses say how an HTTP error status reads for their system
(``http_error``) and which exception classes they raise.
"""

import json
import re
import socket
import ssl
import time
from http.client import HTTPException
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit, urlunsplit

from ansible.module_utils.urls import SSLValidationError, open_url

from ansible_collections.netboot.coreos.plugins.module_utils.errors import NetbootError

RETRY_STATUSES = (500, 502, 503, 504)


def redact_url(url):
    """``url`` without user:password@ (never echo a credential embedded in the URL)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[1], parts.path, parts.query, parts.fragment))


def error_detail(exc):
    """The ``message`` (or ``code``) of an error answer's JSON body (Rancher's error, Kubernetes' Status), or ''."""
    try:
        payload = json.loads(exc.read().decode("utf-8", "replace"))
        return payload.get("message") or payload.get("code") or ""
    except (ValueError, AttributeError, OSError):
        return ""


class JsonApiClient:
    """One HTTP(S) endpoint and credential; ``request`` returns parsed JSON.

    ``label`` names the server in every message ("Rancher https://r.example.com"); ``secrets`` are scrubbed
    from anything shown.
    """

    backoff = 0.5  # seconds before the first retry; doubles each time
    connection_error = NetbootError
    api_error = NetbootError
    not_json_hint = "is url the right server?"

    def __init__(self, url, label, headers=None, secrets=(), validate_certs=True, ca_path=None, timeout=30,
                 retries=3, client_cert=None, client_key=None):
        self.url = url.rstrip("/")
        self.shown_url = redact_url(self.url)
        self.label = label
        self.headers = dict(headers or {})
        self.headers.setdefault("Accept", "application/json")
        self._secrets = [s for s in secrets if s]
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.client_cert = client_cert
        self.client_key = client_key
        self.timeout = timeout
        self.retries = retries

    def scrub(self, text):
        """``text`` with every credential value replaced (error bodies are shown to the user)."""
        text = str(text)
        for secret in self._secrets:
            text = text.replace(secret, "********")
        return text

    def _absolute(self, path, query=None):
        url = path if re.match(r"^https?://", path) else self.url + path
        if query:
            url += ("&" if "?" in url else "?") + urlencode(query)
        return url

    def shown_path(self, url):
        """``url`` relative to the server (what messages show)."""
        return redact_url(url)[len(self.shown_url):] or "/"

    def request(self, method, path, query=None, body=None, raw=False, content_type="application/json"):
        """One API call with retries on 5xx and timeouts; JSON (or text when ``raw``) of the answer."""
        url = self._absolute(path, query)
        what = "%s %s" % (method, self.shown_path(url))
        data = None
        headers = dict(self.headers)
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = content_type
        for attempt in range(self.retries + 1):
            try:
                response = open_url(url, data=data, headers=headers, method=method, timeout=self.timeout,
                                    validate_certs=self.validate_certs, ca_path=self.ca_path,
                                    client_cert=self.client_cert, client_key=self.client_key,
                                    follow_redirects="safe", use_proxy=True)
                text = response.read().decode("utf-8", "replace")
                break
            except HTTPError as exc:
                if exc.code not in RETRY_STATUSES or attempt == self.retries:
                    detail = self.scrub(error_detail(exc))
                    raise self.http_error(exc.code, what, attempt, detail)
            except SSLValidationError as exc:
                raise self._tls_error(exc)
            except URLError as exc:
                if isinstance(exc.reason, (ssl.SSLError, ssl.CertificateError)):
                    raise self._tls_error(exc.reason)
                if not isinstance(exc.reason, socket.timeout):
                    reason = getattr(exc.reason, "strerror", None) or str(exc.reason)
                    raise self.connection_error("cannot connect to %s: %s" % (self.label, self.scrub(reason)),
                                                url=self.shown_url)
                if attempt == self.retries:
                    raise self._timeout_error(what, attempt)
            except socket.timeout:
                if attempt == self.retries:
                    raise self._timeout_error(what, attempt)
            except (OSError, HTTPException) as exc:
                raise self.connection_error("connection to %s failed during %s: %s"
                                            % (self.label, what, self.scrub(exc) or type(exc).__name__),
                                            url=self.shown_url)
            time.sleep(self.backoff * 2 ** attempt)
        if raw:
            return text
        try:
            return json.loads(text)
        except ValueError:
            raise self.api_error("%s answered %s with something that is not JSON (%r...): %s"
                                 % (self.label, what, self.scrub(text[:80]), self.not_json_hint),
                                 url=self.shown_url)

    def _timeout_error(self, what, attempt):
        return self.connection_error("%s did not answer %s within %ss (%d attempts): raise timeout/retries or "
                                     "check the server" % (self.label, what, self.timeout, attempt + 1),
                                     url=self.shown_url)

    def _tls_error(self, exc):
        hint = ("set ca_path to the CA bundle that signed its certificate" if not self.ca_path
                else "ca_path %s does not hold the CA that signed its certificate" % self.ca_path)
        return self.connection_error(
            "TLS verification of %s failed (%s): %s, or validate_certs=false for a lab only"
            % (self.label, self.scrub(getattr(exc, "reason", None) or exc).splitlines()[0], hint),
            url=self.shown_url)

    def http_error(self, status, what, attempt, detail):
        """The exception for an HTTP error ``status`` of ``what`` (``detail``: the server's message, scrubbed)."""
        tries = " after %d attempts" % (attempt + 1) if attempt else ""
        detail = ": %s" % detail if detail else ""
        return self.api_error("%s answered %s with HTTP %d%s%s" % (self.label, what, status, tries, detail),
                              url=self.shown_url, status=status)
