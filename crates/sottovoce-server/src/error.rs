//! The JSON error type every handler returns, and the JSON body extractor.
//!
//! Following the axum examples: the client's own mistakes come back as they are (4xx with a JSON
//! body naming the field), internal failures become a generic 500 while the real cause is logged,
//! and a database out of reach or out of disk space is a 503 with `Retry-After` (the request can
//! succeed later; see `docs/threat-model.md`, "Faults").

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::store::Unavailable;

/// Seconds a client is told to wait (`Retry-After`) before retrying a request the database
/// could not take: a restart or failover takes seconds, freeing disk space takes a person.
fn retry_after(why: Unavailable) -> u64 {
    match why {
        Unavailable::Unreachable => 2,
        Unavailable::DiskFull => 30,
    }
}

/// An API error. The body is `{"error": {"code": "...", "message": "...", "field": "..."}}`
/// (`field` only for [`AppError::Invalid`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The body is not the JSON this endpoint takes (400); the message names the problem.
    #[error("{0}")]
    BadRequest(String),
    /// A field has an unacceptable value (422).
    #[error("{field}: {message}")]
    Invalid {
        /// JSON path of the field, e.g. `transcript[2].text`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// Missing or wrong visitor token or agent session (401).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Authenticated by a cookie but sent from another site, or a wrong metrics token (403).
    #[error("{0}")]
    Forbidden(&'static str),
    /// No such conversation (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with the current state (409), e.g. replying to a resolved conversation.
    #[error("{0}")]
    Conflict(String),
    /// The body is larger than the configured limit (413).
    #[error("request body larger than the limit of this server")]
    TooLarge,
    /// A rate limit was hit (429); retry after this many seconds.
    #[error("too many requests; retry in {0} s")]
    TooManyRequests(u64),
    /// A database failure: 503 with `Retry-After` when the database is out of reach or its disk
    /// is full ([`crate::store::unavailable`]), else 500; the cause is logged, not sent.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Any other internal failure (500; the cause is logged, not sent).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<sottovoce::protocol::Invalid> for AppError {
    fn from(e: sottovoce::protocol::Invalid) -> AppError {
        AppError::Invalid { field: e.field, message: e.message }
    }
}

impl AppError {
    /// Shorthand for [`AppError::Invalid`].
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Invalid { field: field.into(), message: message.into() }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            AppError::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
            AppError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            AppError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            AppError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            AppError::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            AppError::Database(e) if crate::store::unavailable(e).is_some() => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            AppError::Database(_) | AppError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let unavailable = match &self {
            AppError::Database(e) => crate::store::unavailable(e),
            _ => None,
        };
        let message = if let Some(why) = unavailable {
            tracing::warn!(error = %self, "request refused: database unavailable");
            let what = match why {
                Unavailable::DiskFull => "the database's disk is full",
                Unavailable::Unreachable => "the database is unreachable",
            };
            format!("{what}; this request may not have been stored: retry it after {} s (with the same idempotency_key or client_id)", retry_after(why))
        } else if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
            "internal server error; the cause is in the server log".to_owned()
        } else {
            self.to_string()
        };
        let mut error = serde_json::json!({ "code": code, "message": message });
        if let AppError::Invalid { field, message } = &self {
            error["field"] = field.clone().into();
            error["message"] = message.clone().into();
        }
        let mut response = (status, axum::Json(serde_json::json!({ "error": error }))).into_response();
        if let AppError::TooManyRequests(seconds) = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(why) = unavailable {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after(why)));
        }
        response
    }
}

/// A JSON body whose rejection is an [`AppError::BadRequest`] naming the problem (serde's
/// message with line and column, or the missing `Content-Type: application/json`).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(JsonRejection::BytesRejection(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::TooLarge)
            }
            Err(rejection) => Err(AppError::BadRequest(rejection.body_text())),
        }
    }
}
