//! How resources carry their values from the server's render to the page: JSON, read back with the reader server
//! functions use for their answers (`serde_json::from_slice`). Leptos's default codec reads with `from_str`, which
//! compiles a second decoder for every type a page both loads on hydration and fetches afterwards; with one reader,
//! each type's decoding is in the client once (docs/BENCHMARKS.md: the first visit to /chat, −12 KB gzip).

use leptos::server::codee::{Decoder, Encoder};
use serde::{Serialize, de::DeserializeOwned};

/// JSON, decoded from the string's bytes.
pub struct Json;

impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(val: &T) -> Result<String, Self::Error> {
        serde_json::to_string(val)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(val: &str) -> Result<T, Self::Error> {
        serde_json::from_slice(val.as_bytes())
    }
}

/// A resource whose value travels with [`Json`].
pub type Resource<T> = leptos::prelude::Resource<T, Json>;

/// A resource that runs `fetcher` whenever `source` changes (on the server once, its value then carried to the page
/// with [`Json`]), as `leptos::prelude::Resource::new` does with its own codec.
#[track_caller]
pub fn resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let value: Result<Vec<(i64, String)>, String> = Ok(vec![(1, "é \"quoted\"".to_string())]);
        let encoded = <Json as Encoder<_>>::encode(&value).unwrap();
        let decoded: Result<Vec<(i64, String)>, String> = <Json as Decoder<_>>::decode(&encoded).unwrap();
        assert_eq!(decoded, value);
        assert!(<Json as Decoder<Vec<i64>>>::decode("{").is_err());
    }
}
