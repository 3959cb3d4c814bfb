//! `content`: a plain string or an array of typed blocks.

use std::borrow::Cow;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::record::Object;

/// The `content` of a message or tool result: either a plain string or an array of blocks.
///
/// Any other JSON type does not decode (the field then stays in the event's `extra`).
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// `"content": "some text"`.
    Text(String),
    /// `"content": [{"type":"text","text":"..."}, ...]`.
    Blocks(Vec<ContentBlock>),
}

impl Content {
    /// The text of the content: the string itself, or the text blocks concatenated in order
    /// (other blocks are skipped).
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Content::Text(text) => Cow::Borrowed(text),
            Content::Blocks(blocks) => {
                let mut texts = blocks.iter().filter_map(ContentBlock::text);
                match (texts.next(), texts.next()) {
                    (None, _) => Cow::Borrowed(""),
                    (Some(only), None) => Cow::Borrowed(only),
                    (Some(first), Some(second)) => {
                        let mut all = String::from(first);
                        all.push_str(second);
                        texts.for_each(|text| all.push_str(text));
                        Cow::Owned(all)
                    }
                }
            }
        }
    }

    /// The blocks; a plain string counts as no block.
    pub fn blocks(&self) -> &[ContentBlock] {
        match self {
            Content::Text(_) => &[],
            Content::Blocks(blocks) => blocks,
        }
    }
}

impl From<&str> for Content {
    fn from(text: &str) -> Self {
        Content::Text(text.to_owned())
    }
}

impl Serialize for Content {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Content::Text(text) => serializer.serialize_str(text),
            Content::Blocks(blocks) => blocks.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(text) => Ok(Content::Text(text)),
            Value::Array(items) => Ok(Content::Blocks(
                items.into_iter().map(ContentBlock::from_value).collect(),
            )),
            _ => Err(D::Error::custom("content must be a string or an array")),
        }
    }
}

/// One block of an array `content`, tagged by `type`.
///
/// Keys beside the documented ones are kept in `extra`. A block of an unknown `type`, a block
/// without a string `type`, a `text` block whose `text` is not a string, and an array element
/// that is not an object at all are kept whole in [`ContentBlock::Other`], so serialising gives
/// back what was received.
#[derive(Debug, Clone, PartialEq)]
pub enum ContentBlock {
    /// `{"type":"text","text":"..."}`.
    Text {
        /// The text.
        text: String,
        /// Keys beside `type` and `text`.
        extra: Object,
    },
    /// `{"type":"image","source":{...}}`.
    Image {
        /// Where the image is (`base64`, `url` or `file` source object), as received.
        source: Option<Value>,
        /// Keys beside `type` and `source`.
        extra: Object,
    },
    /// `{"type":"document","source":{...}}`.
    Document {
        /// Where the document is, as received.
        source: Option<Value>,
        /// Keys beside `type` and `source`.
        extra: Object,
    },
    /// `{"type":"redacted"}`: content the server withheld.
    Redacted {
        /// Keys beside `type`.
        extra: Object,
    },
    /// Any other block, kept as received.
    Other(Value),
}

impl ContentBlock {
    /// Every block `type` this version knows.
    pub const KNOWN: &'static [&'static str] = &["text", "image", "document", "redacted"];

    /// The block's `type`, when it has a string one.
    pub fn type_name(&self) -> Option<&str> {
        match self {
            ContentBlock::Text { .. } => Some("text"),
            ContentBlock::Image { .. } => Some("image"),
            ContentBlock::Document { .. } => Some("document"),
            ContentBlock::Redacted { .. } => Some("redacted"),
            ContentBlock::Other(raw) => raw.get("type").and_then(Value::as_str),
        }
    }

    /// The text of a `text` block.
    pub fn text(&self) -> Option<&str> {
        match self {
            ContentBlock::Text { text, .. } => Some(text),
            _ => None,
        }
    }

    /// Reads a block from any JSON value; never fails.
    pub fn from_value(value: Value) -> ContentBlock {
        let Value::Object(mut map) = value else {
            return ContentBlock::Other(value);
        };
        let tag = match map.get("type").and_then(Value::as_str) {
            Some(tag) => tag.to_owned(),
            None => return ContentBlock::Other(Value::Object(map)),
        };
        match tag.as_str() {
            "text" => match map.remove("text") {
                Some(Value::String(text)) => {
                    map.remove("type");
                    ContentBlock::Text { text, extra: map }
                }
                Some(other) => {
                    map.insert("text".to_owned(), other);
                    ContentBlock::Other(Value::Object(map))
                }
                None => ContentBlock::Other(Value::Object(map)),
            },
            "image" | "document" => {
                map.remove("type");
                // A `null` source stays in `extra`, like every other null.
                let source = match map.get("source") {
                    Some(Value::Null) | None => None,
                    Some(_) => map.remove("source"),
                };
                if tag == "image" {
                    ContentBlock::Image { source, extra: map }
                } else {
                    ContentBlock::Document { source, extra: map }
                }
            }
            "redacted" => {
                map.remove("type");
                ContentBlock::Redacted { extra: map }
            }
            _ => ContentBlock::Other(Value::Object(map)),
        }
    }

    /// The block as on the wire.
    pub fn to_value(&self) -> Value {
        let (tag, extra, key, value) = match self {
            ContentBlock::Other(raw) => return raw.clone(),
            ContentBlock::Text { text, extra } => {
                ("text", extra, "text", Some(Value::from(text.as_str())))
            }
            ContentBlock::Image { source, extra } => ("image", extra, "source", source.clone()),
            ContentBlock::Document { source, extra } => {
                ("document", extra, "source", source.clone())
            }
            ContentBlock::Redacted { extra } => ("redacted", extra, "", None),
        };
        let mut map = extra.clone();
        map.insert("type".to_owned(), Value::from(tag));
        if let Some(value) = value {
            map.insert(key.to_owned(), value);
        }
        Value::Object(map)
    }
}

impl Serialize for ContentBlock {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ContentBlock {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(ContentBlock::from_value)
    }
}
