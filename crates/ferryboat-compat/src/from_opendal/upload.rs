//! Multipart uploads as one sequential OpenDAL writer.

use std::collections::BTreeMap;

use async_trait::async_trait;
use bytes::Bytes;
use ferryboat_core::{Error, MultipartUpload, PartInfo, PutMode, PutResult, Result};
use tokio::sync::Mutex;

use super::ctx::{put_result, write_err, Ctx};

/// ferry sends numbered parts in any order; an OpenDAL writer takes bytes in call order.
/// Parts that arrive early wait (in memory, bounded by the caller's concurrency) for their
/// turn.
pub(super) struct Upload {
    pub(super) id: String,
    pub(super) ctx: Ctx,
    pub(super) key: String,
    pub(super) mode: PutMode,
    pub(super) state: Mutex<UploadState>,
}

pub(super) struct UploadState {
    pub(super) writer: opendal::Writer,
    pub(super) next: u32,
    pub(super) waiting: BTreeMap<u32, Bytes>,
    /// A write failed: the writer's state is unknown, so the upload cannot go on.
    pub(super) failed: bool,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload").field("id", &self.id).finish_non_exhaustive()
    }
}

#[async_trait]
impl MultipartUpload for Upload {
    fn upload_id(&self) -> &str {
        &self.id
    }

    async fn put_part(&self, number: u32, data: Bytes) -> Result<PartInfo> {
        let size = data.len() as u64;
        let mut state = self.state.lock().await;
        if state.failed {
            return Err(Error::generic(
                &self.ctx.provider,
                &self.key,
                "an earlier part failed: abort the upload",
                None,
            ));
        }
        if number == 0 || number < state.next || state.waiting.contains_key(&number) {
            return Err(Error::not_supported(
                &self.ctx.provider,
                format!("part {number} through OpenDAL (parts are numbered from 1 and sent once)"),
            ));
        }
        state.waiting.insert(number, data);
        loop {
            let next = state.next;
            let Some(data) = state.waiting.remove(&next) else { break };
            if let Err(e) = state.writer.write(data).await {
                state.failed = true;
                return Err(write_err(&self.ctx, &self.key, &self.mode, e));
            }
            state.next += 1;
        }
        Ok(PartInfo { number, token: number.to_string(), size })
    }

    async fn complete(self: Box<Self>, parts: Vec<PartInfo>) -> Result<PutResult> {
        let mut state = self.state.into_inner();
        if state.failed || !state.waiting.is_empty() || parts.len() as u64 != u64::from(state.next - 1) {
            let _ = state.writer.abort().await;
            return Err(Error::generic(
                &self.ctx.provider,
                &self.key,
                "parts missing or failed: they must be numbered 1..=N and all sent",
                None,
            ));
        }
        let m = state.writer.close().await.map_err(|e| write_err(&self.ctx, &self.key, &self.mode, e))?;
        Ok(put_result(&m))
    }

    async fn abort(self: Box<Self>) -> Result<()> {
        let mut state = self.state.into_inner();
        state.writer.abort().await.map_err(|e| self.ctx.err(&self.key, e))
    }
}
