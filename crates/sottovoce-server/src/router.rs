//! The route table, CORS, body limit, per-IP rate limit, health, metrics and OpenAPI.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::metrics::Counter;
use crate::{agents, api, channel, inbox, omni, presence, AppError, AppState};

/// The OpenAPI 3.1 document of this API, served at `/api/openapi.json`.
pub(crate) const OPENAPI: &str = include_str!("../openapi.json");

/// The whole server as a router: visitor API (CORS for the configured origins), agent API,
/// inbox page, `/healthz`, `/metrics`, `/api/openapi.json`. Every `/api/` request counts
/// against the per-IP rate limit (the IP comes from `ConnectInfo<SocketAddr>` when the router
/// is served with `into_make_service_with_connect_info`).
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
        .layer(cors);
    let agent = Router::new()
        .route("/api/agent/login", post(agents::login))
        .route("/api/agent/logout", post(agents::logout))
        .route("/api/agent/me", get(agents::me))
        .route("/api/agent/conversations", get(agents::list))
        .route("/api/agent/conversations/{id}", get(agents::open))
        .route("/api/agent/conversations/{id}/messages", post(agents::reply))
        .route("/api/agent/conversations/{id}/resolve", post(agents::resolve))
        .route("/api/agent/events", get(agents::events))
        .route("/api/agent/presence", post(presence::set_presence));
    // Server-to-server: the mail relay and messaging platforms (no CORS).
    let inbound = Router::new()
        .route("/api/mail/inbound", post(omni::inbound))
        .route("/api/channels/{name}", post(channel::webhook));
    let limited = visitor
        .merge(agent)
        .merge(inbound)
        .route("/api/openapi.json", get(openapi))
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit_per_ip));
    Router::new()
        .merge(limited)
        .merge(inbox::routes())
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(state.inner.config.limits.body_bytes))
        .with_state(state)
}

async fn rate_limit_per_ip(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned());
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

/// `GET /metrics`: Prometheus text format.
async fn metrics(State(state): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.inner.metrics.render()).into_response()
}
