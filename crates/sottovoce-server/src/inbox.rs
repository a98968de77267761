//! The agent inbox page (HTML, JS, CSS compiled in) served under `/inbox/`.
//!
//! The page is static: it signs in, lists and opens conversations through the agent API, and
//! follows `/api/agent/events` for live updates. It only ever builds text nodes. It is served
//! with a Content-Security-Policy that allows nothing but its own script and stylesheet.

use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::AppState;

/// The policy every inbox file is served with.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
     img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const INDEX: &str = include_str!("../inbox/index.html");
const SCRIPT: &str = include_str!("../inbox/inbox.js");
const STYLE: &str = include_str!("../inbox/inbox.css");
const ICON: &str = include_str!("../inbox/favicon.svg");
const DASHBOARD: &str = include_str!("../inbox/dashboard.html");
const DASHBOARD_SCRIPT: &str = include_str!("../inbox/dashboard.js");
const LEADS: &str = include_str!("../inbox/leads.html");
const LEADS_SCRIPT: &str = include_str!("../inbox/leads.js");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// `/inbox` (redirect), `/inbox/`, `/inbox/inbox.js`, `/inbox/inbox.css`, `/inbox/favicon.svg`,
/// the owners' `/inbox/dashboard.html` with `/inbox/dashboard.js`, and the agents' list of leads
/// `/inbox/leads.html` with `/inbox/leads.js`.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(|| async { Redirect::permanent("/inbox/") }))
        .route("/inbox/", get(|| async { asset("text/html; charset=utf-8", INDEX) }))
        .route("/inbox/inbox.js", get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }))
        .route("/inbox/inbox.css", get(|| async { asset("text/css; charset=utf-8", STYLE) }))
        .route("/inbox/favicon.svg", get(|| async { asset("image/svg+xml", ICON) }))
        .route("/inbox/dashboard.html", get(|| async { asset("text/html; charset=utf-8", DASHBOARD) }))
        .route("/inbox/dashboard.js", get(|| async { asset("text/javascript; charset=utf-8", DASHBOARD_SCRIPT) }))
        .route("/inbox/leads.html", get(|| async { asset("text/html; charset=utf-8", LEADS) }))
        .route("/inbox/leads.js", get(|| async { asset("text/javascript; charset=utf-8", LEADS_SCRIPT) }))
}
