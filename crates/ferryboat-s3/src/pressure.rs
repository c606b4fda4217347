//! Tells [`ferryboat_core::pressure`] of every attempt that failed temporarily — a throttling
//! or server-error answer, a timeout, a connection that broke — including those the SDK's
//! own retry loop then hides from the caller, so that a window driving many requests hears
//! "slow down" even when the requests got through.

use aws_sdk_s3::config::interceptors::FinalizerInterceptorContextRef;
use aws_sdk_s3::config::{Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_types::config_bag::ConfigBag;

/// The interceptor every store's client runs.
#[derive(Debug, Default)]
pub(crate) struct ReportTemporaryFailures;

impl Intercept for ReportTemporaryFailures {
    fn name(&self) -> &'static str {
        "ferryboat::ReportTemporaryFailures"
    }

    fn read_after_attempt(
        &self,
        ctx: &FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let temporary = match ctx.response() {
            Some(response) => matches!(response.status().as_u16(), 429 | 500 | 502 | 503 | 504),
            // No answer at all: the request timed out or its connection failed.
            None => ctx.output_or_error().is_some_and(|r| r.is_err()),
        };
        if temporary {
            ferryboat_core::pressure::absorbed();
        }
        Ok(())
    }
}
