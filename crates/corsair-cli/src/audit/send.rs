//! Sending the probes: the first alone (an unreachable target ends the audit), the rest
//! at most [`CONCURRENCY`] at a time, each bounded by [`REQUEST_TIMEOUT`], all together
//! by [`TOTAL_BUDGET`].

use std::sync::Arc;
use std::time::Duration;

use super::analysis::Observed;
use super::probes::{Probe, ProbeKind};
use super::raw;
use crate::client::Client;

/// At most this many probes in flight.
const CONCURRENCY: usize = 6;
/// Per-request timeout.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on the whole probe phase (after the first, reachability probe).
pub(crate) const TOTAL_BUDGET: Duration = Duration::from_secs(60);
/// Probe bodies are irrelevant; keep only a little.
pub(crate) const BODY_LIMIT: usize = 4 * 1024;

/// What became of each probe, in the order of the probes: the response, or why there is
/// none. An error when the first probe fails (the target is unreachable) or when every
/// probe after it fails.
pub(crate) async fn send_all(
    client: &Client,
    url: &str,
    probes: &[Probe],
) -> Result<Vec<Result<Observed, String>>, String> {
    let Some(first_probe) = probes.first() else {
        return Err("no probes to send".to_owned());
    };
    let mut raw: Vec<Option<Result<Observed, String>>> = vec![None; probes.len()];
    raw[0] = Some(Ok(send_probe(client, url, first_probe).await?));

    let mut set = tokio::task::JoinSet::new();
    let limit = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    for (i, probe) in probes.iter().enumerate().skip(1) {
        let (client, url, probe, limit) = (client.clone(), url.to_owned(), probe.clone(), limit.clone());
        set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            (i, send_probe(&client, &url, &probe).await)
        });
    }
    let deadline = tokio::time::sleep(TOTAL_BUDGET);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            next = set.join_next() => match next {
                None => break,
                Some(Ok((i, result))) => {
                    if let Some(slot) = raw.get_mut(i) {
                        *slot = Some(result);
                    }
                }
                Some(Err(e)) => tracing::debug!("probe task failed: {e}"),
            },
            () = &mut deadline => {
                set.abort_all();
                break;
            }
        }
    }

    let outcomes: Vec<Result<Observed, String>> = raw
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(format!(
                    "not completed within the {} s audit budget",
                    TOTAL_BUDGET.as_secs()
                ))
            })
        })
        .collect();
    let failed = outcomes.iter().filter(|r| r.is_err()).count();
    if probes.len() > 1 && failed == probes.len() - 1 {
        let why = outcomes
            .iter()
            .find_map(|r| r.as_ref().err())
            .map_or("unknown", String::as_str);
        return Err(format!("every probe after the first failed (e.g. {why})"));
    }
    Ok(outcomes)
}

async fn send_probe(client: &Client, url: &str, probe: &Probe) -> Result<Observed, String> {
    let headers = probe.headers()?;
    let url = probe.url(url);
    if matches!(probe.kind, ProbeKind::WebSocketBaseline | ProbeKind::WebSocket(_)) {
        let url = crate::wsprobe::http_url(&url)?;
        let a = crate::wsprobe::handshake(&url, Some(&probe.origin), REQUEST_TIMEOUT).await?;
        if a.status == 101 && !a.accepted {
            return Err("101 without a valid WebSocket acceptance (browsers fail it)".to_owned());
        }
        return Ok(Observed {
            status: a.status,
            headers: a.headers,
            raw: None,
            refusal: None,
        });
    }
    if probe.kind == ProbeKind::Crlf {
        let lines: Vec<(&str, Vec<u8>)> = headers
            .iter()
            .map(|(n, v)| {
                let value = if *n == http::header::ORIGIN {
                    probe.origin_bytes()
                } else {
                    v.as_bytes().to_vec()
                };
                (n.as_str(), value)
            })
            .collect();
        return raw::get(&url, &lines, REQUEST_TIMEOUT).await;
    }
    let response = client
        .send_with_body(
            &probe.method(),
            &url,
            &headers,
            bytes::Bytes::from_static(probe.body().as_bytes()),
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(Observed {
        refusal: crate::check::protection::recognize(response.status.as_u16(), &response.body),
        status: response.status.as_u16(),
        headers: response.headers,
        raw: None,
    })
}
