//! The XML stream: a limit-enforcing reader over rxml and a validating writer.

mod fast;
pub(crate) mod framing;
mod limits;
mod reader;
pub(crate) mod tree;
#[cfg(test)]
mod tree_tests;
mod writer;

pub use limits::{Limit, Limits};
pub(crate) use reader::{StreamEvent, StreamHeader, StreamReader, XmlError};
#[cfg(test)]
pub(crate) use reader::{first_element, read_after_header};
#[cfg(test)]
pub(crate) use writer::tests::arb_element;
pub(crate) use writer::{
    InvalidXml, escape_attr, escape_text, invalid_char, push_attr, stream_footer, stream_header,
    write_element,
};
