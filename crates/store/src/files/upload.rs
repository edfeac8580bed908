//! Writing an upload to its temporary object, part by part, so that a file of any size needs
//! at most a few parts in memory; and the clean-up when the upload fails or is dropped.

use bytes::Bytes;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutPayloadMut, WriteMultipart};
use std::sync::Arc;

/// Parts in flight at once (each `part_size` bytes).
const MAX_CONCURRENCY: usize = 2;

enum State {
    /// Nothing stored yet: the bytes so far are buffered (less than one part).
    Buffering(PutPayloadMut),
    /// A multipart upload is running.
    Parts(WriteMultipart),
    /// The temporary object is complete.
    Written,
    /// Moved to its content address or removed: nothing left to clean up.
    Done,
}

/// An upload to a temporary object. Dropped before `finish`ed and `settle`d (an error, the
/// client gone, the request timed out), it removes what it wrote, in the background.
pub(super) struct Upload {
    store: Arc<dyn ObjectStore>,
    key: Key,
    part_size: usize,
    state: State,
}

impl Upload {
    pub(super) fn new(store: Arc<dyn ObjectStore>, key: Key, part_size: usize) -> Upload {
        Upload {
            store,
            key,
            part_size,
            state: State::Buffering(PutPayloadMut::new()),
        }
    }

    pub(super) fn key(&self) -> &Key {
        &self.key
    }

    pub(super) async fn write(&mut self, chunk: Bytes) -> object_store::Result<()> {
        match &mut self.state {
            State::Buffering(buf) => {
                buf.push(chunk);
                if buf.content_length() >= self.part_size {
                    let buffered = std::mem::take(buf).freeze();
                    let upload = self.store.put_multipart(&self.key).await?;
                    let mut parts = WriteMultipart::new_with_chunk_size(upload, self.part_size);
                    for b in buffered {
                        parts.put(b);
                    }
                    self.state = State::Parts(parts);
                }
                Ok(())
            }
            State::Parts(parts) => {
                parts.wait_for_capacity(MAX_CONCURRENCY).await?;
                parts.put(chunk);
                Ok(())
            }
            State::Written | State::Done => Err(object_store::Error::Generic {
                store: "files",
                source: "write after finish".into(),
            }),
        }
    }

    /// Completes the temporary object.
    pub(super) async fn finish(&mut self) -> object_store::Result<()> {
        match std::mem::replace(&mut self.state, State::Written) {
            State::Buffering(buf) => {
                if let Err(e) = self.store.put(&self.key, buf.freeze()).await {
                    self.state = State::Done;
                    return Err(e);
                }
            }
            // `finish` aborts the multipart upload itself when it fails.
            State::Parts(parts) => {
                if let Err(e) = parts.finish().await {
                    self.state = State::Done;
                    return Err(e);
                }
            }
            State::Written | State::Done => {}
        }
        Ok(())
    }

    /// The temporary object was moved to its content address: nothing to clean up.
    pub(super) fn moved(&mut self) {
        self.state = State::Done;
    }

    /// Removes whatever this upload stored (the running multipart upload or the temporary
    /// object). Errors are logged: the collector removes a left-over temporary object later.
    pub(super) async fn discard(&mut self) {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Buffering(_) | State::Done => {}
            State::Parts(parts) => {
                if let Err(e) = parts.abort().await {
                    tracing::warn!(key = %self.key, error = %e, "cannot abort an upload");
                }
            }
            State::Written => {
                if let Err(e) = self.store.delete(&self.key).await
                    && !matches!(e, object_store::Error::NotFound { .. })
                {
                    tracing::warn!(key = %self.key, error = %e, "cannot remove a temporary file");
                }
            }
        }
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if matches!(self.state, State::Buffering(_) | State::Done) {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut rest = Upload {
            store: self.store.clone(),
            key: self.key.clone(),
            part_size: self.part_size,
            state: std::mem::replace(&mut self.state, State::Done),
        };
        rt.spawn(async move { rest.discard().await });
    }
}
