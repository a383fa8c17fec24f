#!/usr/bin/env bash
# Headless "browser" for the MCP conformance runs.
#
# latchkey opens the OAuth authorization URL by running "$BROWSER <url>".
# The conformance suite's fake authorization servers never show a consent page:
# GET /authorize answers "302 Found" with Location: <redirect_uri>?code=test-auth-code&state=...
# (no `iss` parameter). Following that redirect delivers the code to latchkey's
# loopback listener (http://127.0.0.1:<port>/callback?...), exactly what a real
# browser would do.
#
# curl: /usr/bin/curl (7.88.1) on the dev machine. --noproxy '*' so that an
# http_proxy in the environment can never swallow the localhost/127.0.0.1 hops.
set -u
url="${1:?usage: follow-redirect.sh <authorize-url>}"
if [[ -n "${LATCHKEY_CONFORMANCE_DEBUG:-}" ]]; then
  echo "follow-redirect: GET $url" >&2
fi
exec curl -sS -L --max-redirs 10 --max-time 20 --noproxy '*' -o /dev/null "$url"
