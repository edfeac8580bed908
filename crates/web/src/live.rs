//! Live updates, the HTTP side: browsers subscribe to a topic of their tenant over
//! server-sent events (`GET /live?topic=…`, the topic's permission checked when subscribing)
//! and `assets/live.js` refreshes the elements marked `data-live="<topic>"` (with `hx-get`)
//! through the htmx event `live:change`. Pages work without it: they are simply not
//! refreshed. The data side (publishing inside a transaction, PostgreSQL `LISTEN/NOTIFY`
//! across processes) is `rathaus_store::live`.

use crate::ctx::Staff;
use crate::errors::HtmlError;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use rathaus_core::{Error, TenantId};
use rathaus_store::live::Change;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// A topic a module offers, with the permissions that may subscribe to it.
#[derive(Debug, Clone, Copy)]
pub struct Topic {
    /// `<module>.<what>`, e.g. `programme.board`.
    pub name: &'static str,
    /// Staff holding any of these may subscribe (empty: every signed-in user).
    pub any_of: &'static [&'static str],
}

#[derive(Deserialize)]
pub struct SubscribeQuery {
    topic: String,
}

/// `GET /live?topic=…`: the server-sent events of one topic of the caller's tenant, for
/// callers allowed to read it (checked when subscribing).
pub async fn subscribe(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Query(q): Query<SubscribeQuery>,
) -> std::result::Result<Response, HtmlError> {
    let topic = st
        .modules
        .iter()
        .flat_map(|m| m.live_topics())
        .find(|t| t.name == q.topic)
        .ok_or(Error::NotFound)?;
    if !topic.any_of.is_empty() && !topic.any_of.iter().any(|x| p.has(x)) {
        return Err(Error::Forbidden.into());
    }
    let stream = changes(st.live.subscribe(), p.tenant_id, topic.name);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// The changes of one tenant and topic as SSE events; ends when the subscriber lagged.
fn changes(
    rx: broadcast::Receiver<Arc<Change>>,
    tenant: TenantId,
    topic: &'static str,
) -> impl Stream<Item = std::result::Result<Event, std::convert::Infallible>> {
    futures_util::stream::unfold(rx, move |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(c) if c.tenant == tenant.0 && c.topic == topic => {
                    let data = c.id.clone().unwrap_or_default();
                    return Some((Ok(Event::default().event("change").data(data)), rx));
                }
                Ok(_) => continue,
                // Lagged: drop the client (the browser reconnects); Closed: shutting down.
                Err(_) => return None,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn change(tenant: i64, topic: &str, id: &str) -> Arc<Change> {
        Arc::new(Change {
            tenant,
            topic: topic.into(),
            id: Some(id.into()),
        })
    }

    #[tokio::test]
    async fn a_subscriber_sees_its_tenant_and_topic_and_is_dropped_when_it_lags() {
        let (tx, rx) = broadcast::channel(rathaus_store::live::BUFFER);
        let mut s = Box::pin(changes(rx, TenantId(1), "board.cards"));
        tx.send(change(2, "board.cards", "fremd")).unwrap();
        tx.send(change(1, "board.other", "anderes")).unwrap();
        tx.send(change(1, "board.cards", "7")).unwrap();
        assert!(s.next().await.is_some(), "the matching change arrives");
        // A subscriber that does not read falls behind and is dropped, not buffered.
        for i in 0..rathaus_store::live::BUFFER + 10 {
            tx.send(change(1, "board.cards", &i.to_string())).unwrap();
        }
        assert!(s.next().await.is_none(), "the lagging stream ends");
    }
}
