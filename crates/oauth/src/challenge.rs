//! Parsing the `WWW-Authenticate: Bearer ...` challenge of a 401 or 403 (RFC 6750 §3, RFC 9728 §5.1).
//!
//! Only the Bearer challenge is read; other schemes in the same header are skipped. Unknown
//! parameters are ignored so a newer server does not break us.

/// What a Bearer challenge tells the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Challenge {
    /// RFC 9728 `resource_metadata`: where the protected-resource metadata lives.
    pub resource_metadata: Option<String>,
    /// Space-separated scopes the server wants for this request.
    pub scope: Option<String>,
    /// `invalid_token`, `insufficient_scope`, ...
    pub error: Option<String>,
    pub error_description: Option<String>,
}

impl Challenge {
    /// Parses every `WWW-Authenticate` value given; later Bearer parameters fill gaps only.
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Challenge> {
        let mut found: Option<Challenge> = None;
        for value in values {
            if let Some(c) = parse_one(value) {
                let f = found.get_or_insert_with(Challenge::default);
                f.resource_metadata = f.resource_metadata.take().or(c.resource_metadata);
                f.scope = f.scope.take().or(c.scope);
                f.error = f.error.take().or(c.error);
                f.error_description = f.error_description.take().or(c.error_description);
            }
        }
        found
    }

    /// Reads the challenge from a response's headers.
    pub fn from_headers(headers: &http::HeaderMap) -> Option<Challenge> {
        Challenge::parse(headers.get_all(http::header::WWW_AUTHENTICATE).iter().filter_map(|v| v.to_str().ok()))
    }

    pub fn is_insufficient_scope(&self) -> bool {
        self.error.as_deref() == Some("insufficient_scope")
    }
}

fn parse_one(value: &str) -> Option<Challenge> {
    let mut rest = value.trim_start();
    let mut out: Option<Challenge> = None;
    // The header may hold several challenges: `Basic realm="x", Bearer scope="y"`.
    while !rest.is_empty() {
        let (token, after) = take_token(rest);
        if token.is_empty() {
            rest = skip_one(after);
            continue;
        }
        let after_ws = after.trim_start();
        if let Some(value) = after_ws.strip_prefix('=') {
            // An auth-param of the current challenge.
            let (val, next) = take_value(value.trim_start());
            if let Some(c) = out.as_mut() {
                match token.to_ascii_lowercase().as_str() {
                    "resource_metadata" => c.resource_metadata = Some(val),
                    "scope" => c.scope = Some(val),
                    "error" => c.error = Some(val),
                    "error_description" => c.error_description = Some(val),
                    _ => {}
                }
            }
            rest = next.trim_start().trim_start_matches(',').trim_start();
        } else {
            // A new scheme starts.
            if out.is_some() && token.eq_ignore_ascii_case("bearer") {
                rest = after_ws;
                continue;
            }
            if out.is_some() {
                break; // the Bearer challenge ended where another scheme begins
            }
            if token.eq_ignore_ascii_case("bearer") {
                out = Some(Challenge::default());
            }
            rest = after_ws.trim_start_matches(',').trim_start();
        }
    }
    out
}

fn take_token(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| c.is_whitespace() || c == '=' || c == ',' || c == '"').unwrap_or(s.len());
    (&s[..end], &s[end..])
}

fn skip_one(s: &str) -> &str {
    let mut chars = s.chars();
    chars.next();
    chars.as_str()
}

fn take_value(s: &str) -> (String, &str) {
    if let Some(body) = s.strip_prefix('"') {
        let mut val = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, n)) = chars.next() {
                        val.push(n);
                    }
                }
                '"' => return (val, &body[i + 1..]),
                _ => val.push(c),
            }
        }
        (val, "")
    } else {
        let end = s.find(|c: char| c == ',' || c.is_whitespace()).unwrap_or(s.len());
        (s[..end].to_owned(), &s[end..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atlassian_challenge() {
        let c =
            Challenge::parse([r#"Bearer resource_metadata="https://mcp.atlassian.com/.well-known/oauth-protected-resource/v2/mcp", error="invalid_token""#])
                .unwrap();
        assert_eq!(c.resource_metadata.as_deref(), Some("https://mcp.atlassian.com/.well-known/oauth-protected-resource/v2/mcp"));
        assert_eq!(c.error.as_deref(), Some("invalid_token"));
        assert_eq!(c.scope, None);
    }

    #[test]
    fn step_up_with_scope_and_escapes() {
        let c = Challenge::parse([r#"Bearer error="insufficient_scope", scope="files:read files:write", error_description="need \"write\"""#]).unwrap();
        assert!(c.is_insufficient_scope());
        assert_eq!(c.scope.as_deref(), Some("files:read files:write"));
        assert_eq!(c.error_description.as_deref(), Some("need \"write\""));
    }

    #[test]
    fn bearer_after_other_scheme_and_bare_realm() {
        let c = Challenge::parse([r#"Basic realm="x", Bearer realm="OAuth", scope=read"#]).unwrap();
        assert_eq!(c.scope.as_deref(), Some("read"));
        assert_eq!(Challenge::parse(["Bearer"]), Some(Challenge::default()));
        assert_eq!(Challenge::parse([r#"Basic realm="x""#]), None);
    }

    #[test]
    fn garbage_does_not_panic() {
        for s in ["", "=", "Bearer ==,,\"", "Bearer scope=\"unterminated", "\u{1F600} Bearer x=y", ",,,"] {
            let _ = Challenge::parse([s]);
        }
    }
}
