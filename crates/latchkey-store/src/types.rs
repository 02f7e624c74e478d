//! The stored forms of the core's values, as sqlx types of both backends: ids as TEXT
//! (`Id`), instants as integer milliseconds since the epoch, UTC (`Millis`: exact, comparable
//! in SQL, identical on both backends) and JSON objects as TEXT (`JsonText`). Each encodes
//! and decodes through the plain type it is stored as, so one impl serves SQLite and
//! PostgreSQL alike.

use std::fmt::Display;
use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

/// An id (a uuid newtype of the core) stored as its text form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Id<T>(pub T);

/// An instant stored as milliseconds since the epoch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Millis(pub DateTime<Utc>);

/// A JSON value (the users' metadata objects) stored as TEXT, not PostgreSQL's `jsonb`: the
/// schema is the same on both backends. Encodes from a borrowed value, decodes to an owned one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonText<T>(pub T);

impl<DB: Database, T> Type<DB> for Id<T>
where
    String: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as Type<DB>>::compatible(ty)
    }
}

impl<'q, DB: Database, T: Display> Encode<'q, DB> for Id<T>
where
    String: Encode<'q, DB>,
{
    fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        self.0.to_string().encode(buf)
    }
}

impl<'r, DB: Database, T> Decode<'r, DB> for Id<T>
where
    T: FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
    String: Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self(String::decode(value)?.parse()?))
    }
}

impl<DB: Database> Type<DB> for Millis
where
    i64: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <i64 as Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <i64 as Type<DB>>::compatible(ty)
    }
}

impl<'q, DB: Database> Encode<'q, DB> for Millis
where
    i64: Encode<'q, DB>,
{
    fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        self.0.timestamp_millis().encode(buf)
    }
}

impl<'r, DB: Database> Decode<'r, DB> for Millis
where
    i64: Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let ms = i64::decode(value)?;
        Utc.timestamp_millis_opt(ms).single().map(Self).ok_or_else(|| format!("bad timestamp {ms}").into())
    }
}

impl<DB: Database, T> Type<DB> for JsonText<T>
where
    String: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <String as Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <String as Type<DB>>::compatible(ty)
    }
}

impl<'q, DB: Database, T: Serialize> Encode<'q, DB> for JsonText<T>
where
    String: Encode<'q, DB>,
{
    fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        serde_json::to_string(&self.0)?.encode(buf)
    }
}

impl<'r, DB: Database, T: DeserializeOwned> Decode<'r, DB> for JsonText<T>
where
    String: Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self(serde_json::from_str(&String::decode(value)?)?))
    }
}

/// `Millis` for an optional instant.
pub(crate) fn millis(t: Option<DateTime<Utc>>) -> Option<Millis> {
    t.map(Millis)
}

/// The instant of an optional stored `Millis`.
pub(crate) fn instant(t: Option<Millis>) -> Option<DateTime<Utc>> {
    t.map(|m| m.0)
}
