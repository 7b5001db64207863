//! Standard error: what the library logs through `tracing`, as `herald` printed it before
//! the adapters moved to `tracing`: warnings always (`herald: warning: ...`); with
//! `--trace`, the XML both ways (`C: ...` / `S: ...`, SASL payloads redacted) and the
//! session's notes (`* connecting to ...`).

use std::fmt;

use herald_io::trace::{DRIVER_TARGET, SESSION_TARGET, XML_TARGET};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;

/// Installs the subscriber for the whole process.
pub(crate) fn install(trace: bool) {
    let (xml, notes) = if trace {
        (LevelFilter::TRACE, LevelFilter::DEBUG)
    } else {
        (LevelFilter::OFF, LevelFilter::WARN)
    };
    let filter = Targets::new()
        .with_default(LevelFilter::WARN)
        .with_target(XML_TARGET, xml)
        .with_target(SESSION_TARGET, notes)
        .with_target(DRIVER_TARGET, LevelFilter::OFF);
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .event_format(Lines);
    let subscriber = tracing_subscriber::registry().with(lines).with(filter);
    // Only `main` installs one; a second call could only come from a test harness.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// One line per event, prefixed by what it is.
struct Lines;

impl<S, N> FormatEvent<S, N> for Lines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let prefix = match *meta.level() {
            _ if meta.target() == XML_TARGET => "",
            Level::ERROR => "herald: error: ",
            Level::WARN => "herald: warning: ",
            _ => "* ",
        };
        write!(writer, "{prefix}")?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
