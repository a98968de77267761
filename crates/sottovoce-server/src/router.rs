//! The route table, CORS, body limit and timeout, per-IP rate limit, security headers, the
//! agent API's cross-site refusal, health, metrics (optionally behind a token) and OpenAPI.


use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::metrics::Counter;
use crate::{agents, api, channel, inbox, leads, learn, omni, owner, presence, triage, AppError, AppState};

/// The OpenAPI 3.1 document of this API, served at `/api/openapi.json`.
pub(crate) const OPENAPI: &str = include_str!("../openapi.json");

/// How long a client may take to send a request body, in seconds (a slow client holding a
/// connection open gets a 408 after this).
pub(crate) const BODY_TIMEOUT_SECONDS: u64 = 10;

/// The Content-Security-Policy of every response that is not an inbox page: nothing loads,
/// nothing frames it.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// The whole server as a router: visitor API (CORS for the configured origins), agent API,
/// inbox page, `/healthz`, `/metrics`, `/api/openapi.json`. Every `/api/` request counts
/// against the per-IP rate limit (the IP comes from `ConnectInfo<SocketAddr>` when the router
/// is served with `into_make_service_with_connect_info`). The agent API refuses cross-site
/// requests (403) and is never cached; every response carries `X-Content-Type-Options`,
/// `Referrer-Policy`, `X-Frame-Options`, a CSP (the inbox's own, else [`API_CSP`]) and, when
/// cookies are `Secure` (served over TLS), `Strict-Transport-Security`.
pub fn router(state: AppState) -> Router {
    let origins: Vec<HeaderValue> =
        state.inner.config.allowed_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, "idempotency-key".parse().expect("valid"), "last-event-id".parse().expect("valid")])
        .max_age(std::time::Duration::from_secs(3600));
    let visitor = Router::new()
        .route("/api/escalations", post(api::create_escalation))
        .route("/api/escalations/{id}/messages", get(api::list_visitor_messages).post(api::post_visitor_message))
        .route("/api/escalations/{id}/events", get(api::visitor_events))
        .route("/api/escalations/{id}/email", post(omni::give_email))
        .route("/api/escalations/{id}/transcript", post(omni::email_transcript))
        .route("/api/escalations/resume", post(omni::resume))
        .route("/api/escalations/by-customer", post(omni::by_customer))
        .route("/api/availability", get(presence::get_availability))
        .route("/api/kpis", post(owner::report))
        .route("/api/feedback", post(learn::share))
        .route("/api/submissions", post(leads::submit))
        .layer(cors);
    let agent = Router::new()
        .route("/api/agent/login", post(agents::login))
        .route("/api/agent/logout", post(agents::logout))
        .route("/api/agent/me", get(agents::me))
        .route("/api/agent/conversations", get(triage::list))
        .route("/api/agent/conversations/{id}/assign", post(triage::assign))
        .route("/api/agent/agents", get(triage::colleagues))
        .route("/api/agent/submissions", get(leads::list))
        .route("/api/agent/canned", get(triage::list_canned).post(triage::add_canned))
        .route("/api/agent/canned/{id}", axum::routing::delete(triage::delete_canned))
        .route("/api/agent/conversations/{id}", get(agents::open))
        .route("/api/agent/conversations/{id}/messages", post(agents::reply))
        .route("/api/agent/conversations/{id}/resolve", post(agents::resolve))
        .route("/api/agent/events", get(agents::events))
        .route("/api/agent/presence", post(presence::set_presence))
        .route("/api/owner/kpis", get(owner::dashboard))
        .route("/api/owner/kpis.csv", get(owner::dashboard_csv))
        .route("/api/owner/unanswered", get(learn::unanswered))
        .route("/api/owner/unanswered.jsonl", get(learn::unanswered_jsonl))
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(middleware::from_fn(same_origin_only));
    // Server-to-server: the mail relay and messaging platforms (no CORS).
    let inbound = Router::new()
        .route("/api/mail/inbound", post(omni::inbound))
        .route("/api/channels/{name}", post(channel::webhook));
    let limited = visitor
        .merge(agent)
        .merge(inbound)
        .route("/api/openapi.json", get(openapi))
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit_per_ip));
    let hsts = state.inner.config.secure_cookies.then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    Router::new()
        .merge(limited)
        .merge(inbox::routes())
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(state.inner.config.limits.body_bytes))
        .layer(RequestBodyTimeoutLayer::new(std::time::Duration::from_secs(BODY_TIMEOUT_SECONDS)))
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(API_CSP)))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::STRICT_TRANSPORT_SECURITY, hsts))
        .with_state(state)
}

/// Refuses (403) an agent API request a browser says comes from another site.
///
/// Chosen over a CSRF token because it needs nothing from the inbox page or any other client:
/// every browser the inbox supports sends `Sec-Fetch-Site` (Fetch Metadata), and older ones
/// send `Origin` on every POST; non-browser clients (curl, tests) send neither and are not a
/// CSRF vector. `SameSite=Strict` on the cookie and JSON-only bodies stay as further layers.
/// Refused: `Sec-Fetch-Site` other than `same-origin` or `none` (typed in the address bar), or
/// an `Origin` whose host differs from the request's `Host`.
async fn same_origin_only(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let cross_site = match site {
        Some(site) => !matches!(site, "same-origin" | "none"),
        None => match (headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()), headers.get(header::HOST).and_then(|v| v.to_str().ok())) {
            (Some(origin), Some(host)) => origin.split_once("://").map(|(_, h)| h) != Some(host),
            (Some(_), None) => true,
            (None, _) => false,
        },
    };
    if cross_site {
        return AppError::Forbidden("the agent API answers only pages of this server").into_response();
    }
    next.run(request).await
}

async fn rate_limit_per_ip(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let ip = crate::limits::client_address(request.extensions());
    // Preflight requests are free: the browser sends one per new request shape.
    if request.method() != Method::OPTIONS {
        if let Err(seconds) = state.inner.ip_limiter.check(&ip) {
            state.inner.metrics.inc(Counter::RateLimited);
            return AppError::TooManyRequests(seconds).into_response();
        }
    }
    next.run(request).await
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// `GET /healthz`: 200 `{"status":"ok"}` when the database answers, else 503.
async fn healthz(State(state): State<AppState>) -> Response {
    if state.inner.store.ping().await {
        Json(serde_json::json!({ "status": "ok" })).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "database unavailable" }))).into_response()
    }
}

/// `GET /metrics`: Prometheus text format; 401 without, 403 with a wrong
/// `Authorization: Bearer` token when [`crate::Config::metrics_token`] is set.
async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    if let Some(expected) = &state.inner.config.metrics_token {
        let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        match given {
            None => return AppError::Unauthorized("/metrics needs `Authorization: Bearer <token>`").into_response(),
            // Compare digests, so the time taken says nothing about the token's prefix.
            Some(given) if crate::api::sha256_hex(given.as_bytes()) != crate::api::sha256_hex(expected.as_bytes()) => {
                return AppError::Forbidden("wrong metrics token").into_response();
            }
            Some(_) => {}
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.inner.metrics.render()).into_response()
}
