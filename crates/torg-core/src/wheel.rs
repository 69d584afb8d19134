//! The annual wheel's use cases (årshjul): add an item, import a CSV of items, remove one, and
//! make the private link of a calendar feed (the municipality's or a unit's). The pages and
//! the CLI parse and render; the rules are here and in [`torg_domain::wheel`].

use crate::actor::Actor;
use torg_domain::wheel::{Mark, Recurrence, WheelError, title};
use torg_domain::{TenantId, UnitId};
use torg_store::{NewWheelItem, Store, StoreError, Unit, User};

/// The longest description, target group or area, in characters.
const MAX_TEXT: usize = 2000;

#[derive(Debug, thiserror::Error)]
pub enum WheelActionError {
    #[error(transparent)]
    Input(#[from] WheelError),
    #[error("the municipality has no unit {0:?}")]
    Unit(String),
    #[error("the municipality has no user {0:?}")]
    User(String),
    #[error("a description, target group or area is longer than {MAX_TEXT} characters")]
    TooLong,
    #[error("line {line}: {error}")]
    Line {
        line: usize,
        error: Box<WheelActionError>,
    },
    #[error(
        "the file is not CSV with the columns title,date,repeat,unit,responsible,target_group,area,mark,description: {0}"
    )]
    Csv(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl WheelActionError {
    /// The message's key in the interface catalogue.
    pub fn key(&self) -> &'static str {
        match self {
            WheelActionError::Input(e) => e.key(),
            WheelActionError::Unit(_) | WheelActionError::User(_) => "wheel-error-unit",
            WheelActionError::TooLong => "wheel-error-too-long",
            WheelActionError::Line { error, .. } => error.key(),
            WheelActionError::Csv(_) => "wheel-error-csv",
            WheelActionError::Store(_) => "error-storage",
        }
    }
}

/// An item as typed in a form or a CSV line: the unit by id (form) or name (CSV), the
/// responsible person by id or user name.
#[derive(Debug, Clone, Default)]
pub struct ItemInput {
    pub title: String,
    pub date: String,
    pub repeat: String,
    pub unit: String,
    pub responsible: String,
    pub target_group: String,
    pub area: String,
    pub mark: String,
    pub description: String,
}

fn bounded(text: &str) -> Result<String, WheelActionError> {
    let t = text.trim();
    if t.chars().count() > MAX_TEXT {
        return Err(WheelActionError::TooLong);
    }
    Ok(t.to_string())
}

/// Checks `input` against the municipality's units and users.
fn checked(
    input: &ItemInput,
    units: &[Unit],
    users: &[User],
) -> Result<NewWheelItem, WheelActionError> {
    let unit = input.unit.trim();
    let unit_id = match unit {
        "" | "0" => None,
        u => Some(
            units
                .iter()
                .find(|x| x.id.to_string() == u || x.name.eq_ignore_ascii_case(u))
                .ok_or_else(|| WheelActionError::Unit(u.to_string()))?
                .id,
        ),
    };
    let who = input.responsible.trim();
    let responsible_user_id = match who {
        "" | "0" => None,
        w => Some(
            users
                .iter()
                .find(|x| x.id.to_string() == w || x.username.eq_ignore_ascii_case(w))
                .ok_or_else(|| WheelActionError::User(w.to_string()))?
                .id,
        ),
    };
    let mark = match input.mark.trim() {
        "" => Mark::Proactive,
        m => m.parse()?,
    };
    Ok(NewWheelItem {
        title: title(&input.title)?,
        description: bounded(&input.description)?,
        unit_id,
        responsible_user_id,
        target_group: bounded(&input.target_group)?,
        area: bounded(&input.area)?,
        mark,
        recurrence: Recurrence::parse(&input.date, &input.repeat)?,
    })
}

/// Adds one item to the municipality's wheel.
pub async fn add_item(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    input: &ItemInput,
) -> Result<i64, WheelActionError> {
    let (units, users) = (
        store.list_units(tenant).await?,
        store.list_users(tenant).await?,
    );
    let item = checked(input, &units, &users)?;
    let entry = actor.entry(
        "wheel.added",
        String::new(),
        format!("{} ({})", item.title, item.recurrence.to_stored()),
    );
    let ids = store
        .create_wheel_items(tenant, std::slice::from_ref(&item), Some(entry))
        .await?;
    ids.first()
        .copied()
        .ok_or_else(|| StoreError::Database("the item was not written".into()).into())
}

/// Imports a CSV file of items (a header line naming the columns title, date, repeat, unit,
/// responsible, target_group, area, mark, description; only title and date are needed): all
/// of it, or — when a line is wrong — none of it, with the line named.
pub async fn import_csv(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    csv_text: &str,
) -> Result<usize, WheelActionError> {
    let (units, users) = (
        store.list_units(tenant).await?,
        store.list_users(tenant).await?,
    );
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(csv_text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| WheelActionError::Csv(e.to_string()))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(title_at), Some(date_at)) = (column("title"), column("date")) else {
        return Err(WheelActionError::Csv("no title or date column".into()));
    };
    let mut items = vec![];
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = record.map_err(|e| WheelActionError::Csv(format!("line {line}: {e}")))?;
        let field = |at: Option<usize>| {
            at.and_then(|i| record.get(i))
                .unwrap_or_default()
                .to_string()
        };
        let input = ItemInput {
            title: field(Some(title_at)),
            date: field(Some(date_at)),
            repeat: field(column("repeat")),
            unit: field(column("unit")),
            responsible: field(column("responsible")),
            target_group: field(column("target_group")),
            area: field(column("area")),
            mark: field(column("mark")),
            description: field(column("description")),
        };
        items.push(
            checked(&input, &units, &users).map_err(|e| WheelActionError::Line {
                line,
                error: Box::new(e),
            })?,
        );
    }
    let entry = actor.entry(
        "wheel.imported",
        String::new(),
        format!("{} items", items.len()),
    );
    Ok(store
        .create_wheel_items(tenant, &items, Some(entry))
        .await?
        .len())
}

/// Removes an item; false when there was none.
pub async fn remove_item(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    id: i64,
) -> Result<bool, WheelActionError> {
    let entry = actor.entry("wheel.removed", format!("wheel_item:{id}"), String::new());
    Ok(store.delete_wheel_item(tenant, id, Some(entry)).await?)
}

/// A new private link for the calendar feed of the municipality (`unit` `None`) or a unit; the
/// link before stops working. Returns the token, shown once (only its hash is kept).
pub async fn new_feed_link(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    unit: Option<UnitId>,
) -> Result<String, WheelActionError> {
    let token = crate::secrets::new_token();
    let entry = actor.entry(
        "wheel.feed_link",
        unit.map(|u| format!("unit:{u}")).unwrap_or_default(),
        String::new(),
    );
    store
        .set_wheel_feed(
            tenant,
            unit,
            &crate::secrets::token_hash(&token),
            Some(entry),
        )
        .await?;
    Ok(token)
}
