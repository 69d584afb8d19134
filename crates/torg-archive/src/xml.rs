//! A small streaming XML writer over quick-xml: open, leaf, close, with the text escaped by
//! quick-xml. Elements are written as they come, so an extract of any size needs no more
//! memory than one case.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use std::io::Write;

pub struct Xml<W: Write> {
    writer: Writer<W>,
}

impl<W: Write> Xml<W> {
    /// A document with the XML declaration written.
    pub fn new(inner: W) -> std::io::Result<Xml<W>> {
        let mut writer = Writer::new_with_indent(inner, b' ', 1);
        writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
        Ok(Xml { writer })
    }

    /// A writer for a fragment (no declaration), e.g. journal lines written apart.
    pub fn fragment(inner: W) -> Xml<W> {
        Xml {
            writer: Writer::new_with_indent(inner, b' ', 1),
        }
    }

    pub fn open(&mut self, name: &str) -> std::io::Result<()> {
        self.open_with(name, &[])
    }

    pub fn open_with(&mut self, name: &str, attributes: &[(&str, &str)]) -> std::io::Result<()> {
        let start = BytesStart::new(name).with_attributes(attributes.iter().copied());
        self.writer.write_event(Event::Start(start))
    }

    /// `<name attributes/>`.
    pub fn empty_with(&mut self, name: &str, attributes: &[(&str, &str)]) -> std::io::Result<()> {
        let start = BytesStart::new(name).with_attributes(attributes.iter().copied());
        self.writer.write_event(Event::Empty(start))
    }

    pub fn close(&mut self, name: &str) -> std::io::Result<()> {
        self.writer.write_event(Event::End(BytesEnd::new(name)))
    }

    /// `<name>text</name>`, the text escaped.
    pub fn leaf(&mut self, name: &str, text: &str) -> std::io::Result<()> {
        self.leaf_with(name, &[], text)
    }

    pub fn leaf_with(
        &mut self,
        name: &str,
        attributes: &[(&str, &str)],
        text: &str,
    ) -> std::io::Result<()> {
        self.open_with(name, attributes)?;
        self.writer
            .write_event(Event::Text(BytesText::new(&xml_safe(text))))?;
        self.close(name)
    }

    pub fn into_inner(self) -> W {
        self.writer.into_inner()
    }
}

/// Text that XML 1.0 can hold: control characters other than tab, newline and carriage return
/// are not allowed even escaped, so they become spaces.
fn xml_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}'
    };
    if text.chars().any(bad) {
        text.chars()
            .map(|c| if bad(c) { ' ' } else { c })
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_control_characters_removed() {
        let mut x = Xml::new(Vec::new()).expect("decl");
        x.open_with("a", &[("k", "v\"<")]).expect("open");
        x.leaf("b", "<script>alert('x')</script> & \u{0007}bell")
            .expect("leaf");
        x.close("a").expect("close");
        let out = String::from_utf8(x.into_inner()).expect("utf-8");
        assert!(out.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
        assert!(out.contains("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp;  bell"));
        assert!(out.contains("k=\"v&quot;&lt;\""));
    }
}
