//! Request extractors that answer with the API's typed error body (see [`ApiError`]) where
//! axum's own extractors answer plain text: [`JsonBody`] for the control API's JSON bodies,
//! [`QueryPairs`] for the API's query strings.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::Json;
use serde::de::DeserializeOwned;

use crate::errors::ApiError;

/// A JSON request body parsed by axum's [`Json`]; an empty (or all-whitespace) body reads as
/// `{}`. A body that is not JSON, or not the shape of `T`, is a 400 `invalid_request_error`;
/// a body over axum's size limit is a 413 `request_too_large`.
///
/// The body goes through [`Json::from_bytes`] rather than the `Json` extractor because the
/// extractor first refuses, with a 415, every request whose `Content-Type` is not
/// `application/json`: `curl -d` (which sends `application/x-www-form-urlencoded`, as in the
/// README), the bench pages' "simple" `POST`s (`text/plain`), and the
/// `control_routes_and_errors` test (no `Content-Type`) all post JSON without it.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let body = Bytes::from_request(req, state).await.map_err(|r| {
            let status = r.status();
            ApiError::new(
                status,
                ApiError::kind_for_status(status.as_u16()),
                r.body_text(),
            )
        })?;
        let body: &[u8] = if body.trim_ascii().is_empty() {
            b"{}"
        } else {
            &body
        };
        let Json(value) = Json::from_bytes(body)
            .map_err(|r| ApiError::invalid(format!("Invalid JSON body: {}", r.body_text())))?;
        Ok(JsonBody(value))
    }
}

/// The query string's percent-decoded `(key, value)` pairs, in order, from axum's [`Query`].
///
/// Pairs, not a struct: axum's `Query` (serde_urlencoded) cannot fill a struct from the
/// filters' repeated keys: `types[]=a&types[]=b` into a `Vec<String>` field is "invalid type:
/// string \"a\", expected a sequence", into a `String` field "duplicate field `types[]`" (see
/// the test below). The routes read the keys they know with
/// [`QueryPairs::all`] and [`QueryPairs::get`].
#[derive(Debug, Clone, Default)]
pub struct QueryPairs(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(pairs) = Query::from_request_parts(parts, state)
            .await
            .map_err(|r| ApiError::invalid(format!("Invalid query string: {}", r.body_text())))?;
        Ok(QueryPairs(pairs))
    }
}

impl QueryPairs {
    /// Every value of any of `keys`, in order.
    pub fn all<'a>(&'a self, keys: &'a [&str]) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| keys.contains(&k.as_str()))
            .map(|(_, v)| v.as_str())
    }

    /// The last value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Uri;
    use serde::Deserialize;

    fn pairs(uri: &'static str) -> QueryPairs {
        let Query(pairs) = Query::try_from_uri(&Uri::from_static(uri)).unwrap();
        QueryPairs(pairs)
    }

    #[test]
    fn repeated_keys_and_percent_decoding() {
        let q = pairs("/x?types[]=a&type=b%2Cc&types%5B%5D=d&limit=1&limit=2&page=&x=%E6%97%A5+1");
        let all: Vec<_> = q.all(&["type", "types[]"]).collect();
        assert_eq!(all, ["a", "b,c", "d"]);
        assert_eq!(q.get("limit"), Some("2"));
        assert_eq!(q.get("page"), Some(""));
        assert_eq!(q.get("x"), Some("日 1"));
        assert_eq!(q.get("nope"), None);
        assert_eq!(pairs("/x").all(&["type"]).count(), 0);
    }

    /// Why [`QueryPairs`] holds pairs: a struct cannot take the filters' repeated keys.
    #[test]
    fn a_struct_refuses_repeated_keys() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Many {
            #[serde(rename = "types[]", default)]
            types: Vec<String>,
        }
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct One {
            #[serde(rename = "types[]")]
            types: String,
        }
        let uri = Uri::from_static("/x?types[]=a&types[]=b");
        let err = Query::<Many>::try_from_uri(&uri).unwrap_err().body_text();
        assert!(err.contains("expected a sequence"), "{err}");
        let err = Query::<One>::try_from_uri(&uri).unwrap_err().body_text();
        assert!(err.contains("duplicate field"), "{err}");
    }
}
