//! Walking a cursor-paginated list as one stream of items.

use std::future::Future;

use futures_util::stream::{self, Stream, TryStreamExt};

use crate::error::Error;

/// Fetches the page at `cursor` (`None`: the first), yielding its items, then the next page,
/// until a page has no `next_cursor`. Pages are fetched only as the stream is polled, so
/// dropping it stops the walk; the first error ends it.
pub(crate) fn walk<'a, T, F, Fut>(cursor: Option<String>, mut fetch: F) -> impl Stream<Item = Result<T, Error>> + 'a
where
    T: 'a,
    F: FnMut(Option<String>) -> Fut + 'a,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), Error>> + 'a,
{
    // State: `Some(cursor)` is the next page to fetch; `None` means the last page was read.
    stream::try_unfold(Some(cursor), move |state| {
        let page = state.map(&mut fetch);
        async move {
            let Some(page) = page else { return Ok::<_, Error>(None) };
            let (items, next) = page.await?;
            Ok(Some((stream::iter(items.into_iter().map(Ok)), next.map(Some))))
        }
    })
    .try_flatten()
}
