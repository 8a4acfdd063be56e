//! Counting the HTTP requests the SDK sends (retries included), for `sources[].api_calls` and the
//! benchmark. An SDK interceptor sees every attempt, so the count cannot drift from reality.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_sdk_iam::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_iam::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_iam::error::BoxError;

/// Counts requests transmitted by every client it is installed on. Clones share the count.
#[derive(Debug, Clone, Default)]
pub struct ApiCallCounter(Arc<AtomicU64>);

impl ApiCallCounter {
    /// Requests sent so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Intercept for ApiCallCounter {
    fn name(&self) -> &'static str {
        "trustcheck-api-call-counter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
