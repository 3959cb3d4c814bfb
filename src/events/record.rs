//! Field-by-field tolerant reading and writing of JSON objects.
//!
//! Every typed field of the model is read with [`take`]: the field is moved out of the JSON
//! object only when its value has the expected JSON type. A value of another type, and an
//! explicit `null`, stay in the object, which the caller keeps as `extra`. So one odd field
//! never costs the whole event, and writing the typed fields back over `extra` gives the
//! original object again.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

/// A JSON object, as the model keeps unknown fields.
pub type Object = Map<String, Value>;

/// A struct whose fields are read from, and written to, the keys of one JSON object.
pub(crate) trait Record: Sized {
    /// The wire names of the typed fields, in declaration order.
    const FIELDS: &'static [&'static str];

    /// The Rust type of each typed field, as written (`String`, `Vec<ContentBlock>`), in the
    /// order of [`Record::FIELDS`]: the drift test maps them to the TypeScript declarations.
    #[cfg_attr(not(test), allow(dead_code))]
    const FIELD_TYPES: &'static [&'static str];

    /// Moves every field that has the expected JSON type out of `map`; the rest stays.
    fn read(map: &mut Object) -> Self;

    /// Writes every present field into `map` under its wire name.
    fn write(&self, map: &mut Object);
}

/// Moves `key` out of `map` when its value decodes as `T`; leaves it in place otherwise.
///
/// An explicit `null` is left in place too (the typed field reads as `None`), so it survives
/// a round trip.
pub(crate) fn take<T: DeserializeOwned>(map: &mut Object, key: &str) -> Option<T> {
    let value = map.get(key)?;
    if value.is_null() {
        return None;
    }
    let typed = T::deserialize(value).ok()?;
    map.remove(key);
    Some(typed)
}

/// Writes `value` into `map` under `key` when it is present.
pub(crate) fn put<T: Serialize>(map: &mut Object, key: &str, value: &Option<T>) {
    if let Some(value) = value {
        // The model's types serialise infallibly (strings, numbers, maps with string keys).
        if let Ok(json) = serde_json::to_value(value) {
            map.insert(key.to_owned(), json);
        }
    }
}

/// The wire name of a field: its Rust name, or the `as "..."` rename.
macro_rules! wire_name {
    ($field:ident) => {
        stringify!($field)
    };
    ($field:ident $wire:literal) => {
        $wire
    };
}

/// Declares a struct of optional fields that implements [`Record`].
///
/// `name as "wire": Type` renames a field on the wire (for `type`, a Rust keyword).
macro_rules! record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_meta:meta])*
                $field:ident $(as $wire:literal)? : $ty:ty
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct $name {
            $(
                $(#[$field_meta])*
                pub $field: Option<$ty>,
            )*
        }

        impl $crate::events::record::Record for $name {
            const FIELDS: &'static [&'static str] =
                &[$($crate::events::record::wire_name!($field $($wire)?)),*];
            const FIELD_TYPES: &'static [&'static str] = &[$(stringify!($ty)),*];

            #[allow(unused_variables)]
            fn read(map: &mut $crate::events::record::Object) -> Self {
                $name {
                    $(
                        $field: $crate::events::record::take(
                            map,
                            $crate::events::record::wire_name!($field $($wire)?),
                        ),
                    )*
                }
            }

            #[allow(unused_variables)]
            fn write(&self, map: &mut $crate::events::record::Object) {
                $(
                    $crate::events::record::put(
                        map,
                        $crate::events::record::wire_name!($field $($wire)?),
                        &self.$field,
                    );
                )*
            }
        }
    };
}

/// Declares a nested object type: a [`record!`] plus `extra` for unknown keys, and serde
/// impls so that it can be a field type (a non-object value fails, and so stays in the
/// parent's `extra`).
macro_rules! nested_record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_meta:meta])*
                $field:ident $(as $wire:literal)? : $ty:ty
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct $name {
            $(
                $(#[$field_meta])*
                pub $field: Option<$ty>,
            )*
            /// Keys this version does not know, or whose value had an unexpected JSON type.
            pub extra: $crate::events::record::Object,
        }

        impl $crate::events::record::Record for $name {
            const FIELDS: &'static [&'static str] =
                &[$($crate::events::record::wire_name!($field $($wire)?)),*];
            const FIELD_TYPES: &'static [&'static str] = &[$(stringify!($ty)),*];

            fn read(map: &mut $crate::events::record::Object) -> Self {
                $name {
                    $(
                        $field: $crate::events::record::take(
                            map,
                            $crate::events::record::wire_name!($field $($wire)?),
                        ),
                    )*
                    extra: $crate::events::record::Object::new(),
                }
            }

            fn write(&self, map: &mut $crate::events::record::Object) {
                $(
                    $crate::events::record::put(
                        map,
                        $crate::events::record::wire_name!($field $($wire)?),
                        &self.$field,
                    );
                )*
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = self.extra.clone();
                $crate::events::record::Record::write(self, &mut map);
                map.serialize(serializer)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let mut map = $crate::events::record::Object::deserialize(deserializer)?;
                let mut record = <$name as $crate::events::record::Record>::read(&mut map);
                record.extra = map;
                Ok(record)
            }
        }
    };
}

pub(crate) use {nested_record, record, wire_name};
