//! The SQL shared by both backends, as one macro body instantiated per database.
//! Placeholders are written `$1, $2, …` in order of first use, which SQLite and PostgreSQL
//! both accept; dynamic filters go through `QueryBuilder`, which emits each one's own style.

macro_rules! sql_store {
    ($store:ty, $db:ty, $begin_write:literal, $backend:literal, $member_units:literal, $lock_audit_chain:literal, $lock_journal:literal) => {
        use std::collections::HashMap;
        use $crate::batch::{self, Job};
        use $crate::{db_err, Owned};
        use $crate::rows::*;
        use async_trait::async_trait;
        use jiff::Timestamp;
        use sqlx::QueryBuilder;
        use torg_domain::deadline::PolicyRule;
        use torg_domain::{routing::RoutingRule, InquiryStatus, MessageKind, Reference};
        use torg_store::*;

        type Conn = <$db as sqlx::Database>::Connection;

        /// A user's columns, their unit memberships as comma-separated ids last.
        const USER_COLUMNS: &str = concat!(
            "id, tenant_id, username, full_name, password_hash, role, unit_id, active, failed_logins, locked_until, external_subject, email, ",
            $member_units,
            " AS member_of"
        );

        /// The writer task: takes the waiting jobs and commits them together.
        async fn run_writer(pool: sqlx::Pool<$db>, mut rx: tokio::sync::mpsc::Receiver<Job>) {
            while let Some(jobs) = batch::next_batch(&mut rx).await {
                write_batch(&pool, jobs).await;
            }
        }

        /// Writes the batch in one transaction. When a job fails (bad unit, constraint), the
        /// transaction is rolled back and each job is retried in a transaction of its own, so
        /// one bad job never takes the others down and nothing half-written is committed.
        async fn write_batch(pool: &sqlx::Pool<$db>, jobs: Vec<Job>) {
            let together: Result<Vec<Created>, StoreError> = async {
                let mut tx = pool.begin_with($begin_write).await.map_err(db_err)?;
                let news: Vec<&NewInquiry> = jobs.iter().map(|j| &j.new).collect();
                let created = insert_batch(&mut tx, &news).await?;
                tx.commit().await.map_err(db_err)?;
                Ok(created)
            }
            .await;
            match together {
                Ok(created) => {
                    for (job, c) in jobs.into_iter().zip(created) {
                        let _ = job.reply.send(Ok(c));
                    }
                }
                Err(_) if jobs.len() > 1 => {
                    for job in jobs {
                        let r = async {
                            let mut tx = pool.begin_with($begin_write).await.map_err(db_err)?;
                            let mut one = insert_batch(&mut tx, &[&job.new]).await?;
                            tx.commit().await.map_err(db_err)?;
                            one.pop().ok_or_else(|| StoreError::Database("the inquiry was not written".into()))
                        }
                        .await;
                        let _ = job.reply.send(r);
                    }
                }
                Err(e) => {
                    for job in jobs {
                        let _ = job.reply.send(Err(e.clone()));
                    }
                }
            }
        }

        /// Inserts many inquiries with a handful of statements: one counter update per
        /// municipality and year, one multi-row insert of inquiries and one of messages.
        async fn insert_batch(conn: &mut Conn, news: &[&NewInquiry]) -> Result<Vec<Created>, StoreError> {
            let mut results: Vec<Option<Created>> = vec![None; news.len()];
            // Retries of connector messages return what exists.
            for (i, new) in news.iter().enumerate() {
                if let Some(ext) = &new.external_id {
                    let existing: Option<InquiryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT {INQUIRY_COLUMNS} FROM inquiries WHERE tenant_id = $1 AND channel = $2 AND external_id = $3"
                    )))
                    .bind(new.tenant_id)
                    .bind(new.channel.as_str())
                    .bind(ext)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db_err)?;
                    if let Some(row) = existing {
                        results[i] = Some(Created { inquiry: row.try_into()?, created: false });
                    }
                }
            }
            let todo: Vec<usize> = (0..news.len()).filter(|i| results[*i].is_none()).collect();
            if todo.is_empty() {
                return Ok(results.into_iter().flatten().collect());
            }
            // Reserve the references: the counter moves by the number of new inquiries.
            let mut groups: HashMap<(i64, i16), Vec<usize>> = HashMap::new();
            for &i in &todo {
                groups.entry((news[i].tenant_id, news[i].reference_year)).or_default().push(i);
            }
            let mut numbers: HashMap<usize, i64> = HashMap::new();
            for ((tenant, year), members) in &groups {
                let k = members.len() as i64;
                let last: i64 = sqlx::query_scalar(
                    "INSERT INTO reference_counters (tenant_id, year, last_number) VALUES ($1, $2, $3) \
                     ON CONFLICT (tenant_id, year) DO UPDATE SET last_number = reference_counters.last_number + $3 \
                     RETURNING last_number",
                )
                .bind(tenant)
                .bind(i64::from(*year))
                .bind(k)
                .fetch_one(&mut *conn)
                .await
                .map_err(db_err)?;
                for (n, &i) in members.iter().enumerate() {
                    numbers.insert(i, last - k + 1 + n as i64);
                }
            }
            let previews: Vec<String> = todo.iter().map(|&i| torg_domain::inquiry::preview(&news[i].body, 160)).collect();
            let mut q: QueryBuilder<$db> = QueryBuilder::new(
                "INSERT INTO inquiries (tenant_id, ref_year, ref_number, reference, channel, status, topic, subject, \
                 citizen_name, contact_email, contact_phone, language, unit_id, priority, follow_token_hash, preview, \
                 received_at, acknowledged_at, deadline_at, updated_at, external_id, thread_key) ",
            );
            q.push_values(todo.iter().zip(&previews), |mut b, (&i, preview)| {
                let new = news[i];
                let number = numbers.get(&i).copied().unwrap_or_default();
                let received = new.received_at.as_millisecond();
                b.push_bind(new.tenant_id)
                    .push_bind(i64::from(new.reference_year))
                    .push_bind(number)
                    .push_bind(Reference { year: new.reference_year, number }.to_string())
                    .push_bind(new.channel.as_str())
                    .push_bind("new")
                    .push_bind(new.topic.clone())
                    .push_bind(new.subject.clone())
                    .push_bind(new.citizen_name.clone())
                    .push_bind(new.contact_email.clone())
                    .push_bind(new.contact_phone.clone())
                    .push_bind(new.language.clone())
                    .push_bind(new.unit_id)
                    .push_bind(new.priority.as_i64())
                    .push_bind(new.follow_token_hash.clone())
                    .push_bind(preview.clone())
                    .push_bind(received)
                    .push_bind(received)
                    .push_bind(new.deadline_at.as_millisecond())
                    .push_bind(received)
                    .push_bind(new.external_id.clone())
                    .push_bind(new.thread_key.clone());
            });
            q.push(" RETURNING id, tenant_id, ref_year, ref_number");
            let rows: Vec<(i64, i64, i64, i64)> = q.build_query_as().fetch_all(&mut *conn).await.map_err(db_err)?;
            // RETURNING order is not promised: match rows by their reference.
            let ids: HashMap<(i64, i64, i64), i64> = rows.into_iter().map(|(id, t, y, n)| ((t, y, n), id)).collect();
            let mut inquiry_ids = Vec::with_capacity(todo.len());
            for &i in &todo {
                let key = (news[i].tenant_id, i64::from(news[i].reference_year), numbers.get(&i).copied().unwrap_or_default());
                inquiry_ids.push(*ids.get(&key).ok_or_else(|| StoreError::Database("an inserted inquiry was not returned".into()))?);
            }
            let mut q: QueryBuilder<$db> =
                QueryBuilder::new("INSERT INTO messages (tenant_id, inquiry_id, kind, author_user_id, author_name, body, created_at) ");
            q.push_values(todo.iter().zip(&inquiry_ids), |mut b, (&i, id)| {
                let new = news[i];
                b.push_bind(new.tenant_id)
                    .push_bind(*id)
                    .push_bind(MessageKind::Inbound.as_str())
                    .push_bind(None::<i64>)
                    .push_bind(new.citizen_name.clone())
                    .push_bind(new.body.clone())
                    .push_bind(new.received_at.as_millisecond());
            });
            q.push(" RETURNING id, inquiry_id");
            let message_rows: Vec<(i64, i64)> = q.build_query_as().fetch_all(&mut *conn).await.map_err(db_err)?;
            let acks: Vec<(usize, i64)> = todo.iter().zip(&inquiry_ids).filter(|(i, _)| news[**i].acknowledgement.is_some()).map(|(i, id)| (*i, *id)).collect();
            if !acks.is_empty() {
                let mut q: QueryBuilder<$db> =
                    QueryBuilder::new("INSERT INTO messages (tenant_id, inquiry_id, kind, author_user_id, author_name, body, created_at) ");
                q.push_values(acks.iter(), |mut b, (i, id)| {
                    let new = news[*i];
                    let number = numbers.get(i).copied().unwrap_or_default();
                    let reference = Reference { year: new.reference_year, number }.to_string();
                    let ack = new.acknowledgement.as_ref();
                    b.push_bind(new.tenant_id)
                        .push_bind(*id)
                        .push_bind(MessageKind::Acknowledgement.as_str())
                        .push_bind(None::<i64>)
                        .push_bind(ack.map(|a| a.author_name.clone()).unwrap_or_default())
                        .push_bind(ack.map(|a| a.body_for(&reference, *id)).unwrap_or_default())
                        .push_bind(new.received_at.as_millisecond());
                });
                q.push(" RETURNING id, inquiry_id");
                let ack_rows: Vec<(i64, i64)> = q.build_query_as().fetch_all(&mut *conn).await.map_err(db_err)?;
                let ack_of: HashMap<i64, i64> = ack_rows.into_iter().map(|(m, i)| (i, m)).collect();
                for (i, id) in &acks {
                    let new = news[*i];
                    if let (Some(out), Some(message_id)) = (new.acknowledgement.as_ref().and_then(|a| a.outgoing.as_ref()), ack_of.get(id)) {
                        let number = numbers.get(i).copied().unwrap_or_default();
                        let reference = Reference { year: new.reference_year, number }.to_string();
                        let out = NewOutgoing { subject: out.subject.replace("{referanse}", &reference), ..out.clone() };
                        insert_outgoing(&mut *conn, new.tenant_id, Some(*id), Some(*message_id), &out, new.received_at.as_millisecond(), None).await?;
                    }
                }
            }
            // One audit entry per new inquiry, in the same transaction, chained per municipality.
            let mut by_tenant: Vec<i64> = todo.iter().map(|&i| news[i].tenant_id).collect();
            by_tenant.sort_unstable();
            by_tenant.dedup();
            let mut audit_rows: Vec<(i64, i64, Timestamp, torg_domain::audit::NewAuditEntry, String)> = Vec::with_capacity(todo.len());
            for tenant in by_tenant {
                let (mut seq, mut previous) = audit_tail(&mut *conn, tenant).await?;
                for (&i, id) in todo.iter().zip(&inquiry_ids).filter(|(i, _)| news[**i].tenant_id == tenant) {
                    let new = news[i];
                    let number = numbers.get(&i).copied().unwrap_or_default();
                    let entry = torg_domain::audit::NewAuditEntry {
                        actor: new.origin.actor.clone(),
                        action: "inquiry.created".into(),
                        object: format!("inquiry:{id}"),
                        detail: format!(
                            "reference:{} channel:{} unit:{}",
                            Reference { year: new.reference_year, number },
                            new.channel.as_str(),
                            new.unit_id
                        ),
                        source: new.origin.source.clone(),
                    };
                    seq += 1;
                    let at = ts(new.received_at.as_millisecond());
                    previous = torg_domain::audit::chain_hash(&previous, seq, at, &entry);
                    audit_rows.push((tenant, seq, at, entry, previous.clone()));
                }
            }
            for chunk in audit_rows.chunks(1000) {
                let mut q: QueryBuilder<$db> =
                    QueryBuilder::new("INSERT INTO audit_log (tenant_id, seq, at, actor, action, object, detail, source, hash) ");
                q.push_values(chunk, |mut b, (tenant, seq, at, e, hash)| {
                    b.push_bind(*tenant)
                        .push_bind(*seq)
                        .push_bind(at.as_millisecond())
                        .push_bind(e.actor.clone())
                        .push_bind(e.action.clone())
                        .push_bind(e.object.clone())
                        .push_bind(e.detail.clone())
                        .push_bind(e.source.clone())
                        .push_bind(hash.clone());
                });
                q.build().execute(&mut *conn).await.map_err(db_err)?;
            }
            let message_of: HashMap<i64, i64> = message_rows.into_iter().map(|(m, i)| (i, m)).collect();
            for ((&i, id), preview) in todo.iter().zip(&inquiry_ids).zip(previews) {
                let new = news[i];
                if !new.attachments.is_empty() {
                    let message_id = *message_of.get(id).ok_or_else(|| StoreError::Database("an inserted message was not returned".into()))?;
                    insert_attachments(&mut *conn, new.tenant_id, *id, message_id, &new.attachments).await?;
                }
                let number = numbers.get(&i).copied().unwrap_or_default();
                let reference = Reference { year: new.reference_year, number };
                results[i] = Some(Created { inquiry: fresh_inquiry(new, *id, reference, preview), created: true });
            }
            Ok(results.into_iter().flatten().collect())
        }

        #[allow(clippy::too_many_arguments)]
        async fn insert_message_row(
            conn: &mut Conn,
            tenant: i64,
            inquiry_id: i64,
            new: &NewMessage,
            created_at: i64,
        ) -> Result<i64, StoreError> {
            sqlx::query_scalar(
                "INSERT INTO messages (tenant_id, inquiry_id, kind, author_user_id, author_name, body, created_at, external_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(tenant)
            .bind(inquiry_id)
            .bind(new.kind.as_str())
            .bind(new.author_user_id)
            .bind(&new.author_name)
            .bind(&new.body)
            .bind(created_at)
            .bind(&new.external_id)
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)
        }

        /// Queues a message for delivery, in the caller's transaction: one of an inquiry's
        /// messages, or a notice with a text of its own (about an inquiry, or none).
        async fn insert_outgoing(
            conn: &mut Conn,
            tenant: i64,
            inquiry_id: Option<i64>,
            message_id: Option<i64>,
            out: &NewOutgoing,
            now: i64,
            own_text: Option<&str>,
        ) -> Result<(), StoreError> {
            sqlx::query(
                "INSERT INTO outbox (tenant_id, inquiry_id, message_id, channel, recipient, subject, header_id, in_reply_to, refs, status, next_attempt_at, created_at, body) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $10, $11)",
            )
            .bind(tenant)
            .bind(inquiry_id)
            .bind(message_id)
            .bind(out.channel.as_str())
            .bind(&out.recipient)
            .bind(&out.subject)
            .bind(&out.header_id)
            .bind(&out.in_reply_to)
            .bind(out.references.join(" "))
            .bind(now)
            .bind(own_text)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(())
        }

        async fn insert_attachments(
            conn: &mut Conn,
            tenant: i64,
            inquiry_id: i64,
            message_id: i64,
            attachments: &[NewAttachment],
        ) -> Result<Vec<AttachmentMeta>, StoreError> {
            let mut out = Vec::with_capacity(attachments.len());
            for a in attachments {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO attachments (tenant_id, inquiry_id, message_id, filename, content_type, size, data) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(tenant)
                .bind(inquiry_id)
                .bind(message_id)
                .bind(&a.filename)
                .bind(&a.content_type)
                .bind(a.data.len() as i64)
                .bind(&a.data)
                .fetch_one(&mut *conn)
                .await
                .map_err(db_err)?;
                out.push(AttachmentMeta {
                    id,
                    inquiry_id,
                    message_id,
                    filename: a.filename.clone(),
                    content_type: a.content_type.clone(),
                    size: a.data.len() as i64,
                });
            }
            Ok(out)
        }

        type AuditRow = (i64, i64, String, String, String, String, String, String);

        /// Takes the municipality's audit-chain lock for the rest of the transaction and
        /// returns the chain's last (sequence number, hash).
        async fn audit_tail(conn: &mut Conn, tenant: i64) -> Result<(i64, String), StoreError> {
            sqlx::query($lock_audit_chain).bind(tenant).execute(&mut *conn).await.map_err(db_err)?;
            let last: Option<(i64, String)> =
                sqlx::query_as("SELECT seq, hash FROM audit_log WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1")
                    .bind(tenant)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db_err)?;
            Ok(last.unwrap_or((0, torg_domain::audit::GENESIS.to_string())))
        }

        /// Appends `entry` to the municipality's chain inside the caller's transaction, so a
        /// change and its audit entry commit together. Taken last in a transaction (the
        /// chain's lock is held only to its end).
        async fn insert_audit(conn: &mut Conn, tenant: i64, entry: torg_domain::audit::NewAuditEntry, at: Timestamp) -> Result<torg_domain::audit::AuditEntry, StoreError> {
            let (last, previous) = audit_tail(conn, tenant).await?;
            let seq = last + 1;
            let at = ts(at.as_millisecond());
            let hash = torg_domain::audit::chain_hash(&previous, seq, at, &entry);
            sqlx::query(
                "INSERT INTO audit_log (tenant_id, seq, at, actor, action, object, detail, source, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(tenant)
            .bind(seq)
            .bind(at.as_millisecond())
            .bind(&entry.actor)
            .bind(&entry.action)
            .bind(&entry.object)
            .bind(&entry.detail)
            .bind(&entry.source)
            .bind(&hash)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
            Ok(torg_domain::audit::AuditEntry { seq, at, entry, hash })
        }

        /// Replaces the units `user_id` is a member of, inside the caller's transaction.
        async fn replace_memberships(conn: &mut Conn, tenant: i64, user_id: i64, units: &[i64]) -> Result<(), StoreError> {
            sqlx::query("DELETE FROM unit_memberships WHERE tenant_id = $1 AND user_id = $2")
                .bind(tenant)
                .bind(user_id)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            let mut units = units.to_vec();
            units.sort_unstable();
            units.dedup();
            for unit in units {
                require_in_tenant(&mut *conn, Owned::Unit, tenant, unit).await?;
                sqlx::query("INSERT INTO unit_memberships (tenant_id, user_id, unit_id) VALUES ($1, $2, $3)")
                    .bind(tenant)
                    .bind(user_id)
                    .bind(unit)
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
            }
            Ok(())
        }

        fn audit_entry((seq, at, actor, action, object, detail, source, hash): AuditRow) -> torg_domain::audit::AuditEntry {
            torg_domain::audit::AuditEntry {
                seq,
                at: ts(at),
                entry: torg_domain::audit::NewAuditEntry { actor, action, object, detail, source },
                hash,
            }
        }

        /// The municipality's user whose text `column` (a fixed name, never input) is `value`.
        async fn user_where(pool: &sqlx::Pool<$db>, tenant: i64, column: &'static str, value: &str) -> Result<Option<User>, StoreError> {
            let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND {column} = $2")))
                .bind(tenant)
                .bind(value)
                .fetch_optional(pool)
                .await
                .map_err(db_err)?;
            row.map(TryInto::try_into).transpose()
        }

        /// Fails with `NotFound(what)` unless row `id` of `table` belongs to `tenant`.
        async fn require_in_tenant<'e, E>(executor: E, table: Owned, tenant: i64, id: i64) -> Result<(), StoreError>
        where
            E: sqlx::Executor<'e, Database = $db>,
        {
            let (sql, what) = match table {
                Owned::Unit => ("SELECT id FROM units WHERE tenant_id = $1 AND id = $2", "unit"),
                Owned::User => ("SELECT id FROM users WHERE tenant_id = $1 AND id = $2", "user"),
                Owned::Inquiry => ("SELECT id FROM inquiries WHERE tenant_id = $1 AND id = $2", "inquiry"),
            };
            let found: Option<i64> = sqlx::query_scalar(sql).bind(tenant).bind(id).fetch_optional(executor).await.map_err(db_err)?;
            found.map(|_| ()).ok_or(StoreError::NotFound(what))
        }

        #[async_trait]
        impl Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            fn node_bus(&self) -> Option<&dyn NodeBus> {
                self.bus()
            }

            fn writer_queue(&self) -> usize {
                self.writer.max_capacity() - self.writer.capacity()
            }

            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await.map_err(db_err)?;
                Ok(())
            }

            async fn create_municipality(&self, new: NewMunicipality) -> Result<Municipality> {
                let row: MunicipalityRow = sqlx::query_as(
                    "INSERT INTO municipalities (slug, name, time_zone, language, created_at) VALUES ($1, $2, $3, $4, $5) \
                     RETURNING id, slug, name, time_zone, language",
                )
                .bind(&new.slug)
                .bind(&new.name)
                .bind(&new.time_zone)
                .bind(&new.language)
                .bind(Timestamp::now().as_millisecond())
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(row.into())
            }

            async fn municipality(&self, id: i64) -> Result<Option<Municipality>> {
                let row: Option<MunicipalityRow> = sqlx::query_as("SELECT id, slug, name, time_zone, language FROM municipalities WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(row.map(Into::into))
            }

            async fn municipality_by_slug(&self, slug: &str) -> Result<Option<Municipality>> {
                let row: Option<MunicipalityRow> = sqlx::query_as("SELECT id, slug, name, time_zone, language FROM municipalities WHERE slug = $1")
                    .bind(slug)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(row.map(Into::into))
            }

            async fn list_municipalities(&self) -> Result<Vec<Municipality>> {
                let rows: Vec<MunicipalityRow> = sqlx::query_as("SELECT id, slug, name, time_zone, language FROM municipalities ORDER BY name")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn create_unit(&self, tenant: i64, name: &str, is_service_desk: bool) -> Result<Unit> {
                let row: UnitRow = sqlx::query_as(
                    "INSERT INTO units (tenant_id, name, is_service_desk) VALUES ($1, $2, $3) RETURNING id, tenant_id, name, is_service_desk, sensitive",
                )
                .bind(tenant)
                .bind(name)
                .bind(i64::from(is_service_desk))
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(row.into())
            }

            async fn list_units(&self, tenant: i64) -> Result<Vec<Unit>> {
                let rows: Vec<UnitRow> = sqlx::query_as("SELECT id, tenant_id, name, is_service_desk, sensitive FROM units WHERE tenant_id = $1 ORDER BY name")
                    .bind(tenant)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn update_unit(&self, tenant: i64, id: i64, name: &str, sensitive: bool) -> Result<Unit> {
                let row: Option<UnitRow> = sqlx::query_as(
                    "UPDATE units SET name = $1, sensitive = $2 WHERE tenant_id = $3 AND id = $4 RETURNING id, tenant_id, name, is_service_desk, sensitive",
                )
                .bind(name)
                .bind(i64::from(sensitive))
                .bind(tenant)
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                row.map(Into::into).ok_or(StoreError::NotFound("unit"))
            }

            async fn create_user(&self, tenant: i64, new: NewUser, audit: Option<torg_domain::audit::NewAuditEntry>) -> Result<User> {
                let mut tx = self.pool.begin_with($begin_write).await.map_err(db_err)?;
                if let Some(unit) = new.unit_id {
                    require_in_tenant(&mut *tx, Owned::Unit, tenant, unit).await?;
                }
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO users (tenant_id, username, full_name, password_hash, role, unit_id, email) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(tenant)
                .bind(&new.username)
                .bind(&new.full_name)
                .bind(&new.password_hash)
                .bind(new.role.as_str())
                .bind(new.unit_id)
                .bind(&new.email)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
                if let Some(unit) = new.unit_id {
                    sqlx::query("INSERT INTO unit_memberships (tenant_id, user_id, unit_id) VALUES ($1, $2, $3)")
                        .bind(tenant)
                        .bind(id)
                        .bind(unit)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                if let Some(entry) = audit {
                    insert_audit(&mut tx, tenant, entry.with_object(format!("user:{id}")), Timestamp::now()).await?;
                }
                tx.commit().await.map_err(db_err)?;
                self.user(tenant, id).await?.ok_or(StoreError::NotFound("user"))
            }

            async fn user(&self, tenant: i64, id: i64) -> Result<Option<User>> {
                let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2")))
                    .bind(tenant)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                row.map(TryInto::try_into).transpose()
            }

            async fn user_by_username(&self, tenant: i64, username: &str) -> Result<Option<User>> {
                user_where(&self.pool, tenant, "username", username).await
            }

            async fn user_by_subject(&self, tenant: i64, subject: &str) -> Result<Option<User>> {
                user_where(&self.pool, tenant, "external_subject", subject).await
            }

            async fn list_users(&self, tenant: i64) -> Result<Vec<User>> {
                let rows: Vec<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 ORDER BY full_name")))
                    .bind(tenant)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn update_user(&self, tenant: i64, id: i64, update: UserUpdate) -> Result<User> {
                if let Some(unit) = update.unit_id {
                    require_in_tenant(&self.pool, Owned::Unit, tenant, unit).await?;
                }
                let changed = sqlx::query("UPDATE users SET full_name = $1, role = $2, unit_id = $3, active = $4, email = $7 WHERE tenant_id = $5 AND id = $6")
                    .bind(&update.full_name)
                    .bind(update.role.as_str())
                    .bind(update.unit_id)
                    .bind(i64::from(update.active))
                    .bind(tenant)
                    .bind(id)
                    .bind(&update.email)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                if changed.rows_affected() == 0 {
                    return Err(StoreError::NotFound("user"));
                }
                self.user(tenant, id).await?.ok_or(StoreError::NotFound("user"))
            }

            async fn change_user(&self, tenant: i64, id: i64, change: UserChange, audit: torg_domain::audit::NewAuditEntry) -> Result<User> {
                let mut tx = self.pool.begin_with($begin_write).await.map_err(db_err)?;
                let before: Option<(String, i64)> = sqlx::query_as("SELECT role, active FROM users WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let Some((role_before, _)) = before else {
                    return Err(StoreError::NotFound("user"));
                };
                let update = &change.update;
                if let Some(unit) = update.unit_id {
                    require_in_tenant(&mut *tx, Owned::Unit, tenant, unit).await?;
                }
                sqlx::query("UPDATE users SET full_name = $1, role = $2, unit_id = $3, active = $4, email = $5 WHERE tenant_id = $6 AND id = $7")
                    .bind(&update.full_name)
                    .bind(update.role.as_str())
                    .bind(update.unit_id)
                    .bind(i64::from(update.active))
                    .bind(&update.email)
                    .bind(tenant)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                if let Some(units) = &change.memberships {
                    replace_memberships(&mut tx, tenant, id, units).await?;
                }
                if change.unlock {
                    sqlx::query("UPDATE users SET locked_until = NULL, failed_logins = 0 WHERE tenant_id = $1 AND id = $2")
                        .bind(tenant)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                if let Some(hash) = &change.password_hash {
                    sqlx::query("UPDATE users SET password_hash = $1 WHERE tenant_id = $2 AND id = $3")
                        .bind(hash)
                        .bind(tenant)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                // Less access or a new password: sessions already open end with the change.
                if !update.active || role_before != update.role.as_str() || change.password_hash.is_some() {
                    sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2")
                        .bind(tenant)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                insert_audit(&mut tx, tenant, audit, Timestamp::now()).await?;
                tx.commit().await.map_err(db_err)?;
                self.user(tenant, id).await?.ok_or(StoreError::NotFound("user"))
            }

            async fn set_password_hash(&self, tenant: i64, id: i64, password_hash: &str) -> Result<()> {
                let changed = sqlx::query("UPDATE users SET password_hash = $1 WHERE tenant_id = $2 AND id = $3")
                    .bind(password_hash)
                    .bind(tenant)
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                if changed.rows_affected() == 0 {
                    return Err(StoreError::NotFound("user"));
                }
                Ok(())
            }

            async fn set_external_subject(&self, tenant: i64, id: i64, subject: Option<&str>) -> Result<()> {
                let changed = sqlx::query("UPDATE users SET external_subject = $1 WHERE tenant_id = $2 AND id = $3")
                    .bind(subject)
                    .bind(tenant)
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                if changed.rows_affected() == 0 {
                    return Err(StoreError::NotFound("user"));
                }
                Ok(())
            }

            async fn set_memberships(&self, tenant: i64, user_id: i64, units: &[i64]) -> Result<()> {
                let mut tx = self.pool.begin_with($begin_write).await.map_err(db_err)?;
                require_in_tenant(&mut *tx, Owned::User, tenant, user_id).await?;
                replace_memberships(&mut tx, tenant, user_id, units).await?;
                tx.commit().await.map_err(db_err)
            }

            async fn count_failed_login(&self, tenant: i64, user_id: i64) -> Result<i64> {
                let n: Option<i64> = sqlx::query_scalar("UPDATE users SET failed_logins = failed_logins + 1 WHERE tenant_id = $1 AND id = $2 RETURNING failed_logins")
                    .bind(tenant)
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                n.ok_or(StoreError::NotFound("user"))
            }

            async fn set_locked_until(&self, tenant: i64, user_id: i64, until: Option<Timestamp>) -> Result<()> {
                let sql = if until.is_some() {
                    "UPDATE users SET locked_until = $1 WHERE tenant_id = $2 AND id = $3"
                } else {
                    "UPDATE users SET locked_until = $1, failed_logins = 0 WHERE tenant_id = $2 AND id = $3"
                };
                sqlx::query(sql)
                    .bind(until.map(|t| t.as_millisecond()))
                    .bind(tenant)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn delete_user_sessions(&self, tenant: i64, user_id: i64) -> Result<()> {
                sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2")
                    .bind(tenant)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn set_sso_provider(&self, tenant: i64, provider: Option<SsoProvider>) -> Result<()> {
                let mut tx = self.pool.begin_with($begin_write).await.map_err(db_err)?;
                sqlx::query("DELETE FROM sso_providers WHERE tenant_id = $1")
                    .bind(tenant)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                if let Some(p) = provider {
                    sqlx::query(
                        "INSERT INTO sso_providers (tenant_id, issuer, client_id, client_secret, role_claim, role_map) VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(tenant)
                    .bind(&p.issuer)
                    .bind(&p.client_id)
                    .bind(&p.client_secret)
                    .bind(&p.role_claim)
                    .bind(&p.role_map)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn sso_provider(&self, tenant: i64) -> Result<Option<SsoProvider>> {
                let row: Option<(String, String, String, String, String)> = sqlx::query_as(
                    "SELECT issuer, client_id, client_secret, role_claim, role_map FROM sso_providers WHERE tenant_id = $1",
                )
                .bind(tenant)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(row.map(|(issuer, client_id, client_secret, role_claim, role_map)| SsoProvider {
                    issuer,
                    client_id,
                    client_secret,
                    role_claim,
                    role_map,
                }))
            }

            async fn create_session(&self, s: Session) -> Result<()> {
                sqlx::query("INSERT INTO sessions (token_hash, tenant_id, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&s.token_hash)
                    .bind(s.tenant_id)
                    .bind(s.user_id)
                    .bind(&s.csrf_token)
                    .bind(s.expires_at.as_millisecond())
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
                let row: Option<SessionRow> = sqlx::query_as(
                    "SELECT token_hash, tenant_id, user_id, csrf_token, expires_at FROM sessions WHERE token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(row.map(Into::into))
            }

            async fn delete_session(&self, token_hash: &str) -> Result<()> {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn create_api_token(&self, tenant: i64, name: &str, token_hash: &str) -> Result<ApiToken> {
                let row: ApiTokenRow = sqlx::query_as(
                    "INSERT INTO api_tokens (tenant_id, name, token_hash) VALUES ($1, $2, $3) RETURNING id, tenant_id, name",
                )
                .bind(tenant)
                .bind(name)
                .bind(token_hash)
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(row.into())
            }

            async fn api_token(&self, token_hash: &str) -> Result<Option<ApiToken>> {
                let row: Option<ApiTokenRow> = sqlx::query_as("SELECT id, tenant_id, name FROM api_tokens WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(row.map(Into::into))
            }

            async fn create_routing_rule(&self, tenant: i64, rule: RoutingRule) -> Result<i64> {
                require_in_tenant(&self.pool, Owned::Unit, tenant, rule.unit_id).await?;
                sqlx::query_scalar(
                    "INSERT INTO routing_rules (tenant_id, position, keyword, topic, channel, unit_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(tenant)
                .bind(rule.position)
                .bind(&rule.keyword)
                .bind(&rule.topic)
                .bind(rule.channel.map(|c| c.as_str()))
                .bind(rule.unit_id)
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)
            }

            async fn list_routing_rules(&self, tenant: i64) -> Result<Vec<RoutingRule>> {
                let rows: Vec<RoutingRuleRow> = sqlx::query_as(
                    "SELECT position, keyword, topic, channel, unit_id FROM routing_rules WHERE tenant_id = $1 ORDER BY position, id",
                )
                .bind(tenant)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn create_deadline_policy(&self, tenant: i64, rule: PolicyRule) -> Result<i64> {
                if let Some(unit) = rule.unit_id {
                    require_in_tenant(&self.pool, Owned::Unit, tenant, unit).await?;
                }
                sqlx::query_scalar(
                    "INSERT INTO deadline_policies (tenant_id, channel, unit_id, topic, policy) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(tenant)
                .bind(rule.channel.map(|c| c.as_str()))
                .bind(rule.unit_id)
                .bind(&rule.topic)
                .bind(rule.policy.to_string())
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)
            }

            async fn list_deadline_policies(&self, tenant: i64) -> Result<Vec<PolicyRule>> {
                let rows: Vec<PolicyRow> =
                    sqlx::query_as("SELECT channel, unit_id, topic, policy FROM deadline_policies WHERE tenant_id = $1 ORDER BY id")
                        .bind(tenant)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(db_err)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn set_opening_hours(&self, tenant: i64, weekly: &[torg_domain::calendar::DayHours; 7]) -> Result<()> {
                sqlx::query(
                    "INSERT INTO opening_hours (tenant_id, weekly) VALUES ($1, $2) ON CONFLICT (tenant_id) DO UPDATE SET weekly = $2",
                )
                .bind(tenant)
                .bind(torg_domain::calendar::format_weekly(weekly))
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn opening_hours(&self, tenant: i64) -> Result<Option<[torg_domain::calendar::DayHours; 7]>> {
                let weekly: Option<String> = sqlx::query_scalar("SELECT weekly FROM opening_hours WHERE tenant_id = $1")
                    .bind(tenant)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                weekly
                    .map(|w| torg_domain::calendar::parse_weekly(&w).map_err(|e| StoreError::Database(e.to_string())))
                    .transpose()
            }

            async fn set_scoped_opening_hours(&self, tenant: i64, scope: torg_domain::calendar::HoursScope, weekly: &[torg_domain::calendar::DayHours; 7]) -> Result<()> {
                if let torg_domain::calendar::HoursScope::Unit(unit) = scope {
                    require_in_tenant(&self.pool, Owned::Unit, tenant, unit).await?;
                }
                sqlx::query(
                    "INSERT INTO scoped_opening_hours (tenant_id, scope, weekly) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, scope) DO UPDATE SET weekly = $3",
                )
                .bind(tenant)
                .bind(scope.to_string())
                .bind(torg_domain::calendar::format_weekly(weekly))
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn scoped_opening_hours(&self, tenant: i64) -> Result<Vec<(torg_domain::calendar::HoursScope, [torg_domain::calendar::DayHours; 7])>> {
                let rows: Vec<(String, String)> = sqlx::query_as("SELECT scope, weekly FROM scoped_opening_hours WHERE tenant_id = $1 ORDER BY scope")
                    .bind(tenant)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                rows.into_iter()
                    .map(|(scope, weekly)| {
                        Ok((
                            scope.parse().map_err(StoreError::Database)?,
                            torg_domain::calendar::parse_weekly(&weekly).map_err(|e| StoreError::Database(e.to_string()))?,
                        ))
                    })
                    .collect()
            }

            async fn set_closed_day(&self, tenant: i64, day: ClosedDay) -> Result<()> {
                sqlx::query(
                    "INSERT INTO closed_days (tenant_id, day, closes_at, note) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (tenant_id, day) DO UPDATE SET closes_at = $3, note = $4",
                )
                .bind(tenant)
                .bind(day.date.to_string())
                .bind(day.closes_at.map(|t| t.strftime("%H:%M").to_string()))
                .bind(&day.note)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn list_closed_days(&self, tenant: i64) -> Result<Vec<ClosedDay>> {
                let rows: Vec<(String, Option<String>, String)> =
                    sqlx::query_as("SELECT day, closes_at, note FROM closed_days WHERE tenant_id = $1 ORDER BY day")
                        .bind(tenant)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(db_err)?;
                rows.into_iter()
                    .map(|(day, closes_at, note)| {
                        let bad = |what: &str| StoreError::Database(format!("stored {what} is not valid"));
                        Ok(ClosedDay {
                            date: day.parse().map_err(|_| bad("closed day"))?,
                            closes_at: closes_at.map(|t| t.parse().map_err(|_| bad("closing time"))).transpose()?,
                            note,
                        })
                    })
                    .collect()
            }

            async fn deadline_counts(&self, tenant: i64, now: Timestamp, warn_permille: i64) -> Result<Vec<UnitDeadlineCounts>> {
                let now = now.as_millisecond();
                let rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
                    "SELECT unit_id, COUNT(*), \
                     SUM(CASE WHEN deadline_at >= $2 AND received_at * 1000 + (deadline_at - received_at) * $3 <= $2 * 1000 THEN 1 ELSE 0 END), \
                     SUM(CASE WHEN deadline_at < $2 THEN 1 ELSE 0 END) \
                     FROM inquiries WHERE tenant_id = $1 AND status <> 'closed' GROUP BY unit_id ORDER BY unit_id",
                )
                .bind(tenant)
                .bind(now)
                .bind(warn_permille)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(rows.into_iter().map(|(unit_id, open, warning, overdue)| UnitDeadlineCounts { unit_id, open, warning, overdue }).collect())
            }

            async fn inquiries_to_warn(&self, tenant: i64, now: Timestamp, warn_permille: i64, limit: u32) -> Result<Vec<InquirySummary>> {
                let rows: Vec<SummaryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {SUMMARY_COLUMNS} FROM inquiries WHERE tenant_id = $1 AND status IN ('new', 'open') AND warned_at IS NULL \
                     AND received_at * 1000 + (deadline_at - received_at) * $3 <= $2 * 1000 ORDER BY deadline_at, id LIMIT $4"
                )))
                .bind(tenant)
                .bind(now.as_millisecond())
                .bind(warn_permille)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn mark_warned(&self, tenant: i64, inquiry_id: i64, notices: &[Notice], at: Timestamp) -> Result<bool> {
                let mut tx = self.pool.begin_with($begin_write).await.map_err(db_err)?;
                let marked = sqlx::query("UPDATE inquiries SET warned_at = $1 WHERE tenant_id = $2 AND id = $3 AND warned_at IS NULL")
                    .bind(at.as_millisecond())
                    .bind(tenant)
                    .bind(inquiry_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
                if marked == 0 {
                    return Ok(false);
                }
                for notice in notices {
                    insert_outgoing(&mut *tx, tenant, Some(inquiry_id), None, &notice.out, at.as_millisecond(), Some(&notice.body)).await?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(true)
            }

            async fn queue_notices(&self, tenant: i64, inquiry_id: Option<i64>, notices: &[Notice], at: Timestamp) -> Result<()> {
                if let Some(id) = inquiry_id {
                    require_in_tenant(&self.pool, Owned::Inquiry, tenant, id).await?;
                }
                let mut tx = self.pool.begin_with($begin_write).await.map_err(db_err)?;
                for notice in notices {
                    insert_outgoing(&mut *tx, tenant, inquiry_id, None, &notice.out, at.as_millisecond(), Some(&notice.body)).await?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn open_deadline_inputs(&self, tenant: i64) -> Result<Vec<DeadlineInput>> {
                let rows: Vec<(i64, String, i64, Option<String>, i64, i64)> = sqlx::query_as(
                    "SELECT id, channel, unit_id, topic, received_at, deadline_at FROM inquiries WHERE tenant_id = $1 AND status <> 'closed' ORDER BY id",
                )
                .bind(tenant)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                rows.into_iter()
                    .map(|(id, channel, unit_id, topic, received_at, deadline_at)| {
                        Ok(DeadlineInput {
                            id,
                            channel: channel.parse().map_err(|_| StoreError::Database(format!("unknown channel {channel:?}")))?,
                            unit_id,
                            topic,
                            received_at: ts(received_at),
                            deadline_at: ts(deadline_at),
                        })
                    })
                    .collect()
            }

            async fn set_deadlines(&self, tenant: i64, deadlines: &[(i64, Timestamp)]) -> Result<u64> {
                let mut tx = self.pool.begin_with($begin_write).await.map_err(db_err)?;
                let mut changed = 0;
                for (id, deadline) in deadlines {
                    changed += sqlx::query("UPDATE inquiries SET deadline_at = $1 WHERE tenant_id = $2 AND id = $3 AND deadline_at <> $1")
                        .bind(deadline.as_millisecond())
                        .bind(tenant)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?
                        .rows_affected();
                }
                tx.commit().await.map_err(db_err)?;
                Ok(changed)
            }

            async fn set_acknowledgement_template(&self, tenant: i64, language: &str, body: &str) -> Result<()> {
                sqlx::query(
                    "INSERT INTO acknowledgement_templates (tenant_id, language, body) VALUES ($1, $2, $3) \
                     ON CONFLICT (tenant_id, language) DO UPDATE SET body = $3",
                )
                .bind(tenant)
                .bind(language)
                .bind(body)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn acknowledgement_templates(&self, tenant: i64) -> Result<Vec<(String, String)>> {
                sqlx::query_as("SELECT language, body FROM acknowledgement_templates WHERE tenant_id = $1 ORDER BY language")
                    .bind(tenant)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)
            }

            async fn append_audit(&self, tenant: i64, entry: torg_domain::audit::NewAuditEntry, at: Timestamp) -> Result<torg_domain::audit::AuditEntry> {
                let mut tx = self.pool.begin_with($begin_write).await.map_err(db_err)?;
                let entry = insert_audit(&mut tx, tenant, entry, at).await?;
                tx.commit().await.map_err(db_err)?;
                Ok(entry)
            }

            async fn search_audit(&self, tenant: i64, query: &AuditQuery, limit: u32) -> Result<Vec<torg_domain::audit::AuditEntry>> {
                let mut q: QueryBuilder<$db> =
                    QueryBuilder::new("SELECT seq, at, actor, action, object, detail, source, hash FROM audit_log WHERE tenant_id = ");
                q.push_bind(tenant);
                if let Some(a) = query.actor.as_deref().filter(|s| !s.is_empty()) {
                    q.push(" AND actor LIKE ").push_bind(format!("%{}%", $crate::like_escape(a))).push(" ESCAPE '\\'");
                }
                if let Some(a) = query.action.as_deref().filter(|s| !s.is_empty()) {
                    q.push(" AND action LIKE ").push_bind(format!("{}%", $crate::like_escape(a))).push(" ESCAPE '\\'");
                }
                if let Some(o) = query.object.as_deref().filter(|s| !s.is_empty()) {
                    q.push(" AND object LIKE ").push_bind(format!("%{}%", $crate::like_escape(o))).push(" ESCAPE '\\'");
                }
                if let Some(before) = query.before_seq {
                    q.push(" AND seq < ").push_bind(before);
                }
                q.push(" ORDER BY seq DESC LIMIT ").push_bind(i64::from(limit));
                let rows: Vec<(i64, i64, String, String, String, String, String, String)> =
                    q.build_query_as().fetch_all(&self.pool).await.map_err(db_err)?;
                Ok(rows.into_iter().map(audit_entry).collect())
            }

            async fn audit_entries(&self, tenant: i64, after_seq: i64, limit: u32) -> Result<Vec<torg_domain::audit::AuditEntry>> {
                let rows: Vec<(i64, i64, String, String, String, String, String, String)> = sqlx::query_as(
                    "SELECT seq, at, actor, action, object, detail, source, hash FROM audit_log WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                )
                .bind(tenant)
                .bind(after_seq)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(rows.into_iter().map(audit_entry).collect())
            }

            async fn create_peak(&self, tenant: i64, peak: torg_domain::deadline::PlannedPeak) -> Result<i64> {
                sqlx::query_scalar(
                    "INSERT INTO planned_peaks (tenant_id, name, starts_at, ends_at, policy, staffing_note) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(tenant)
                .bind(&peak.name)
                .bind(peak.starts_at.as_millisecond())
                .bind(peak.ends_at.as_millisecond())
                .bind(peak.policy.to_string())
                .bind(&peak.staffing_note)
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)
            }

            async fn peaks(&self, tenant: i64, after: Timestamp) -> Result<Vec<torg_domain::deadline::PlannedPeak>> {
                let rows: Vec<(i64, String, i64, i64, String, String)> = sqlx::query_as(
                    "SELECT id, name, starts_at, ends_at, policy, staffing_note FROM planned_peaks WHERE tenant_id = $1 AND ends_at > $2 ORDER BY starts_at, id",
                )
                .bind(tenant)
                .bind(after.as_millisecond())
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                rows.into_iter()
                    .map(|(id, name, s, e, policy, staffing_note)| {
                        Ok(torg_domain::deadline::PlannedPeak {
                            id,
                            name,
                            starts_at: ts(s),
                            ends_at: ts(e),
                            policy: policy.parse().map_err(|e: torg_domain::deadline::NotAPolicy| StoreError::Database(e.to_string()))?,
                            staffing_note,
                        })
                    })
                    .collect()
            }

            async fn create_shift(&self, tenant: i64, group: &str, user_id: i64, starts_at: Timestamp, ends_at: Timestamp) -> Result<torg_domain::duty::Shift> {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO duty_shifts (tenant_id, channel_group, user_id, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(tenant)
                .bind(group)
                .bind(user_id)
                .bind(starts_at.as_millisecond())
                .bind(ends_at.as_millisecond())
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(torg_domain::duty::Shift { id, group: group.to_string(), user_id, starts_at, ends_at, handover_note: String::new() })
            }

            async fn shifts(&self, tenant: i64, from: Timestamp, to: Timestamp) -> Result<Vec<torg_domain::duty::Shift>> {
                let rows: Vec<(i64, String, i64, i64, i64, String)> = sqlx::query_as(
                    "SELECT id, channel_group, user_id, starts_at, ends_at, handover_note FROM duty_shifts \
                     WHERE tenant_id = $1 AND ends_at > $2 AND starts_at < $3 ORDER BY starts_at, id",
                )
                .bind(tenant)
                .bind(from.as_millisecond())
                .bind(to.as_millisecond())
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(rows
                    .into_iter()
                    .map(|(id, group, user_id, s, e, handover_note)| torg_domain::duty::Shift { id, group, user_id, starts_at: ts(s), ends_at: ts(e), handover_note })
                    .collect())
            }

            async fn set_handover_note(&self, tenant: i64, shift_id: i64, note: &str) -> Result<()> {
                let done = sqlx::query("UPDATE duty_shifts SET handover_note = $1 WHERE tenant_id = $2 AND id = $3")
                    .bind(note)
                    .bind(tenant)
                    .bind(shift_id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("shift"));
                }
                Ok(())
            }

            async fn create_canned_reply(&self, tenant: i64, title: &str, body: &str) -> Result<CannedReply> {
                let row: CannedReplyRow = sqlx::query_as(
                    "INSERT INTO canned_replies (tenant_id, title, body) VALUES ($1, $2, $3) RETURNING id, title, body",
                )
                .bind(tenant)
                .bind(title)
                .bind(body)
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(row.into())
            }

            async fn list_canned_replies(&self, tenant: i64) -> Result<Vec<CannedReply>> {
                let rows: Vec<CannedReplyRow> = sqlx::query_as("SELECT id, title, body FROM canned_replies WHERE tenant_id = $1 ORDER BY title")
                    .bind(tenant)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn create_inquiry(&self, new: NewInquiry) -> Result<Created> {
                batch::submit(&self.writer, new).await
            }

            async fn inquiry(&self, tenant: i64, id: i64) -> Result<Option<Inquiry>> {
                let row: Option<InquiryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {INQUIRY_COLUMNS} FROM inquiries WHERE tenant_id = $1 AND id = $2"
                )))
                .bind(tenant)
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                row.map(TryInto::try_into).transpose()
            }

            async fn inquiry_by_follow_token(&self, tenant: i64, id: i64, token_hash: &str) -> Result<Option<Inquiry>> {
                let row: Option<InquiryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {INQUIRY_COLUMNS} FROM inquiries WHERE tenant_id = $1 AND id = $2 AND follow_token_hash = $3 AND follow_token_hash <> ''"
                )))
                .bind(tenant)
                .bind(id)
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                row.map(TryInto::try_into).transpose()
            }

            async fn inquiry_by_reference(&self, tenant: i64, reference: &str) -> Result<Option<i64>> {
                sqlx::query_scalar("SELECT id FROM inquiries WHERE tenant_id = $1 AND reference = $2")
                    .bind(tenant)
                    .bind(reference)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)
            }

            async fn inquiry_by_mail_id(&self, tenant: i64, header_id: &str) -> Result<Option<i64>> {
                let sent: Option<i64> = sqlx::query_scalar("SELECT inquiry_id FROM outbox WHERE tenant_id = $1 AND header_id = $2")
                    .bind(tenant)
                    .bind(header_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                if sent.is_some() {
                    return Ok(sent);
                }
                let received: Option<i64> = sqlx::query_scalar("SELECT inquiry_id FROM messages WHERE tenant_id = $1 AND external_id = $2")
                    .bind(tenant)
                    .bind(header_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                if received.is_some() {
                    return Ok(received);
                }
                // The first message of an inquiry that came by email: its Message-ID is the
                // inquiry's external id.
                sqlx::query_scalar("SELECT id FROM inquiries WHERE tenant_id = $1 AND channel = 'email' AND external_id = $2")
                    .bind(tenant)
                    .bind(header_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)
            }

            async fn set_mail_account(&self, tenant: i64, account: Option<MailAccount>) -> Result<()> {
                let mut tx = self.pool.begin_with($begin_write).await.map_err(db_err)?;
                sqlx::query("DELETE FROM mail_accounts WHERE tenant_id = $1").bind(tenant).execute(&mut *tx).await.map_err(db_err)?;
                if let Some(a) = account {
                    sqlx::query(
                        "INSERT INTO mail_accounts (tenant_id, address, display_name, imap_host, imap_port, imap_security, imap_user, imap_password, imap_folder, \
                         smtp_host, smtp_port, smtp_security, smtp_user, smtp_password, max_message_bytes, blocked_extensions) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                    )
                    .bind(tenant)
                    .bind(&a.address)
                    .bind(&a.display_name)
                    .bind(&a.imap.host)
                    .bind(i64::from(a.imap.port))
                    .bind(&a.imap.security)
                    .bind(&a.imap.user)
                    .bind(&a.imap.password)
                    .bind(&a.imap_folder)
                    .bind(&a.smtp.host)
                    .bind(i64::from(a.smtp.port))
                    .bind(&a.smtp.security)
                    .bind(&a.smtp.user)
                    .bind(&a.smtp.password)
                    .bind(a.max_message_bytes)
                    .bind(a.blocked_extensions.join(","))
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn set_sms_gateway(&self, tenant: i64, gateway: Option<SmsGateway>) -> Result<()> {
                let mut tx = self.pool.begin_with($begin_write).await.map_err(db_err)?;
                sqlx::query("DELETE FROM sms_gateways WHERE tenant_id = $1").bind(tenant).execute(&mut *tx).await.map_err(db_err)?;
                if let Some(g) = gateway {
                    sqlx::query("INSERT INTO sms_gateways (tenant_id, sendsms_url, username, password, sender, inbound_key) VALUES ($1, $2, $3, $4, $5, $6)")
                        .bind(tenant)
                        .bind(&g.sendsms_url)
                        .bind(&g.username)
                        .bind(&g.password)
                        .bind(&g.sender)
                        .bind(&g.inbound_key)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn sms_gateway(&self, tenant: i64) -> Result<Option<SmsGateway>> {
                let row: Option<(String, String, String, String, String)> = sqlx::query_as(
                    "SELECT sendsms_url, username, password, sender, inbound_key FROM sms_gateways WHERE tenant_id = $1",
                )
                .bind(tenant)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(row.map(|(sendsms_url, username, password, sender, inbound_key)| SmsGateway { sendsms_url, username, password, sender, inbound_key }))
            }

            async fn sms_gateways(&self) -> Result<Vec<(i64, SmsGateway)>> {
                let rows: Vec<(i64, String, String, String, String, String)> = sqlx::query_as(
                    "SELECT tenant_id, sendsms_url, username, password, sender, inbound_key FROM sms_gateways ORDER BY tenant_id",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(rows
                    .into_iter()
                    .map(|(t, sendsms_url, username, password, sender, inbound_key)| {
                        (t, SmsGateway { sendsms_url, username, password, sender, inbound_key })
                    })
                    .collect())
            }

            async fn sms_keywords(&self, tenant: i64) -> Result<Vec<SmsKeyword>> {
                let rows: Vec<(String, Option<i64>, String)> = sqlx::query_as(
                    "SELECT keyword, unit_id, reply FROM sms_keywords WHERE tenant_id = $1 ORDER BY keyword",
                )
                .bind(tenant)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(rows.into_iter().map(|(keyword, unit_id, reply)| SmsKeyword { keyword, unit_id, reply }).collect())
            }

            async fn set_sms_keyword(&self, tenant: i64, keyword: &SmsKeyword) -> Result<()> {
                if let Some(unit) = keyword.unit_id {
                    require_in_tenant(&self.pool, Owned::Unit, tenant, unit).await?;
                }
                sqlx::query(
                    "INSERT INTO sms_keywords (tenant_id, keyword, unit_id, reply) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (tenant_id, keyword) DO UPDATE SET unit_id = excluded.unit_id, reply = excluded.reply",
                )
                .bind(tenant)
                .bind(&keyword.keyword)
                .bind(keyword.unit_id)
                .bind(&keyword.reply)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn delete_sms_keyword(&self, tenant: i64, keyword: &str) -> Result<bool> {
                let done = sqlx::query("DELETE FROM sms_keywords WHERE tenant_id = $1 AND keyword = $2")
                    .bind(tenant)
                    .bind(keyword)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn set_sms_consent(&self, tenant: i64, phone: &str, stopped: bool, at: Timestamp) -> Result<()> {
                if stopped {
                    sqlx::query(
                        "INSERT INTO sms_consent (tenant_id, phone, stopped_at) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, phone) DO UPDATE SET stopped_at = excluded.stopped_at",
                    )
                    .bind(tenant)
                    .bind(phone)
                    .bind(at.as_millisecond())
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                } else {
                    sqlx::query("DELETE FROM sms_consent WHERE tenant_id = $1 AND phone = $2")
                        .bind(tenant)
                        .bind(phone)
                        .execute(&self.pool)
                        .await
                        .map_err(db_err)?;
                }
                Ok(())
            }

            async fn sms_stopped(&self, tenant: i64, phone: &str) -> Result<bool> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sms_consent WHERE tenant_id = $1 AND phone = $2")
                    .bind(tenant)
                    .bind(phone)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(n > 0)
            }

            async fn set_connector_status(&self, s: &ConnectorStatus) -> Result<()> {
                sqlx::query(
                    "INSERT INTO connector_status (tenant_id, connector, ok, detail, at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (tenant_id, connector) DO UPDATE SET ok = excluded.ok, detail = excluded.detail, at = excluded.at",
                )
                .bind(s.tenant_id)
                .bind(&s.connector)
                .bind(i64::from(s.ok))
                .bind(&s.detail)
                .bind(s.at.as_millisecond())
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn connector_statuses(&self, tenant: Option<i64>) -> Result<Vec<ConnectorStatus>> {
                let rows: Vec<(i64, String, i64, String, i64)> = sqlx::query_as(
                    "SELECT tenant_id, connector, ok, detail, at FROM connector_status WHERE ($1 IS NULL OR tenant_id = $1) ORDER BY tenant_id, connector",
                )
                .bind(tenant)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(rows
                    .into_iter()
                    .map(|(tenant_id, connector, ok, detail, at)| ConnectorStatus { tenant_id, connector, ok: ok != 0, detail, at: ts(at) })
                    .collect())
            }

            async fn channel_accounts(&self, tenant: i64) -> Result<Vec<ChannelAccount>> {
                let rows: Vec<ChannelAccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {CHANNEL_ACCOUNT_COLUMNS} FROM channel_accounts WHERE tenant_id = $1 ORDER BY channel, name, id"
                )))
                .bind(tenant)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn propose_channel_account(&self, tenant: i64, new: &NewChannelAccount, at: Timestamp) -> Result<ChannelAccount> {
                if let Some(unit) = new.owner_unit_id {
                    require_in_tenant(&self.pool, Owned::Unit, tenant, unit).await?;
                }
                let row: ChannelAccountRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO channel_accounts (tenant_id, channel, name, address, owner_unit_id, purpose, ambition, opening_hours, status, proposed_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'proposed', $9, $10) RETURNING {CHANNEL_ACCOUNT_COLUMNS}"
                )))
                .bind(tenant)
                .bind(new.channel.as_str())
                .bind(&new.name)
                .bind(&new.address)
                .bind(new.owner_unit_id)
                .bind(&new.purpose)
                .bind(new.ambition.as_str())
                .bind(&new.opening_hours)
                .bind(new.proposed_by)
                .bind(at.as_millisecond())
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
                row.try_into()
            }

            async fn decide_channel_account(&self, tenant: i64, id: i64, status: torg_domain::registry::AccountStatus, by_user: i64, at: Timestamp) -> Result<ChannelAccount> {
                let row: Option<ChannelAccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "UPDATE channel_accounts SET status = $1, decided_by = $2, decided_at = $3 WHERE tenant_id = $4 AND id = $5 RETURNING {CHANNEL_ACCOUNT_COLUMNS}"
                )))
                .bind(status.as_str())
                .bind(by_user)
                .bind(at.as_millisecond())
                .bind(tenant)
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                row.ok_or(StoreError::NotFound("channel account"))?.try_into()
            }

            async fn channel_account_approved(&self, tenant: i64, channel: torg_domain::Channel, address: &str) -> Result<bool> {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM channel_accounts WHERE tenant_id = $1 AND channel = $2 AND address = $3 AND status = 'approved'",
                )
                .bind(tenant)
                .bind(channel.as_str())
                .bind(address)
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(n > 0)
            }

            async fn set_social_account(&self, a: &SocialAccount) -> Result<()> {
                sqlx::query(
                    "INSERT INTO social_accounts (tenant_id, channel, account, api_base, access_token, app_secret, verify_token, registry_address, cursor) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (tenant_id, channel, account) DO UPDATE SET \
                     api_base = excluded.api_base, access_token = excluded.access_token, app_secret = excluded.app_secret, \
                     verify_token = excluded.verify_token, registry_address = excluded.registry_address",
                )
                .bind(a.tenant_id)
                .bind(a.channel.as_str())
                .bind(&a.account)
                .bind(&a.api_base)
                .bind(&a.access_token)
                .bind(&a.app_secret)
                .bind(&a.verify_token)
                .bind(&a.registry_address)
                .bind(&a.cursor)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn social_accounts(&self, tenant: Option<i64>) -> Result<Vec<SocialAccount>> {
                type Row = (i64, String, String, String, String, String, String, String, String, i64);
                let rows: Vec<Row> = sqlx::query_as(
                    "SELECT s.tenant_id, s.channel, s.account, s.api_base, s.access_token, s.app_secret, s.verify_token, s.registry_address, s.cursor, \
                     (SELECT COUNT(*) FROM channel_accounts c WHERE c.tenant_id = s.tenant_id AND c.channel = s.channel \
                      AND c.address = s.registry_address AND c.status = 'approved') \
                     FROM social_accounts s WHERE ($1 IS NULL OR s.tenant_id = $1) ORDER BY s.tenant_id, s.channel, s.account",
                )
                .bind(tenant)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                rows.into_iter()
                    .map(|(tenant_id, channel, account, api_base, access_token, app_secret, verify_token, registry_address, cursor, approved)| {
                        Ok(SocialAccount {
                            tenant_id,
                            channel: channel.parse().map_err(|e: torg_domain::channel::UnknownChannel| StoreError::Database(e.to_string()))?,
                            account,
                            api_base,
                            access_token,
                            app_secret,
                            verify_token,
                            registry_address,
                            cursor,
                            approved: approved > 0,
                        })
                    })
                    .collect()
            }

            async fn set_social_cursor(&self, tenant: i64, channel: torg_domain::Channel, account: &str, cursor: &str) -> Result<()> {
                sqlx::query("UPDATE social_accounts SET cursor = $1 WHERE tenant_id = $2 AND channel = $3 AND account = $4")
                    .bind(cursor)
                    .bind(tenant)
                    .bind(channel.as_str())
                    .bind(account)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn open_inquiry_by_thread(&self, tenant: i64, channel: torg_domain::Channel, thread_key: &str) -> Result<Option<(i64, Option<String>)>> {
                sqlx::query_as(
                    "SELECT id, external_id FROM inquiries WHERE tenant_id = $1 AND channel = $2 AND thread_key = $3 \
                     AND status <> 'closed' ORDER BY id DESC LIMIT 1",
                )
                .bind(tenant)
                .bind(channel.as_str())
                .bind(thread_key)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)
            }

            async fn mail_account(&self, tenant: i64) -> Result<Option<MailAccount>> {
                Ok(self.mail_accounts().await?.into_iter().find(|(t, _)| *t == tenant).map(|(_, a)| a))
            }

            async fn mail_accounts(&self) -> Result<Vec<(i64, MailAccount)>> {
                let rows: Vec<MailAccountRow> = sqlx::query_as(
                    "SELECT tenant_id, address, display_name, imap_host, imap_port, imap_security, imap_user, imap_password, imap_folder, \
                     smtp_host, smtp_port, smtp_security, smtp_user, smtp_password, max_message_bytes, blocked_extensions FROM mail_accounts ORDER BY tenant_id",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(rows.into_iter().map(MailAccountRow::into_account).collect())
            }

            async fn quarantine_mail(&self, tenant: i64, mail: &NewQuarantinedMail, at: Timestamp) -> Result<()> {
                let mut tx = self.pool.begin_with($begin_write).await.map_err(db_err)?;
                let kept = sqlx::query(
                    "INSERT INTO mail_quarantine (tenant_id, message_id, sender, subject, reason, raw, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (tenant_id, message_id) DO NOTHING",
                )
                .bind(tenant)
                .bind(&mail.message_id)
                .bind(&mail.sender)
                .bind(&mail.subject)
                .bind(&mail.reason)
                .bind(&mail.raw)
                .bind(at.as_millisecond())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
                // The notice goes with the first keeping only (a refetch sends nothing again).
                if let Some(notice) = mail.notice.as_ref().filter(|_| kept == 1) {
                    insert_outgoing(&mut *tx, tenant, None, None, &notice.out, at.as_millisecond(), Some(&notice.body)).await?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn quarantined_raw(&self, tenant: i64, id: i64) -> Result<Option<Vec<u8>>> {
                sqlx::query_scalar("SELECT raw FROM mail_quarantine WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)
            }

            async fn remove_quarantined(&self, tenant: i64, id: i64) -> Result<()> {
                let done = sqlx::query("DELETE FROM mail_quarantine WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant)
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("quarantined mail"));
                }
                Ok(())
            }

            async fn quarantined_mail(&self, tenant: i64, limit: u32) -> Result<Vec<QuarantinedMail>> {
                let rows: Vec<(i64, String, String, String, String, i64, i64)> = sqlx::query_as(
                    "SELECT id, message_id, sender, subject, reason, CAST(LENGTH(raw) AS BIGINT), received_at FROM mail_quarantine WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(tenant)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(rows
                    .into_iter()
                    .map(|(id, message_id, sender, subject, reason, size, at)| QuarantinedMail { id, message_id, sender, subject, reason, size, received_at: ts(at) })
                    .collect())
            }

            async fn claim_outbox(&self, channel: torg_domain::Channel, now: Timestamp, lease: jiff::SignedDuration, limit: u32) -> Result<Vec<OutboxItem>> {
                let now_ms = now.as_millisecond();
                let until = (now + lease).as_millisecond();
                let mut tx = self.pool.begin_with($begin_write).await.map_err(db_err)?;
                let ids: Vec<i64> = sqlx::query_scalar(
                    "SELECT id FROM outbox WHERE channel = $1 AND status = 'pending' AND next_attempt_at <= $2 AND lease_until <= $2 ORDER BY id LIMIT $3",
                )
                .bind(channel.as_str())
                .bind(now_ms)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
                let mut claimed = Vec::with_capacity(ids.len());
                for id in ids {
                    // The lease is taken only if nobody took it meanwhile (PostgreSQL re-checks).
                    let row: Option<OutboxRow> = sqlx::query_as(
                        "UPDATE outbox SET lease_until = $1, attempts = attempts + 1 WHERE id = $2 AND status = 'pending' AND lease_until <= $3 \
                         RETURNING id, tenant_id, inquiry_id, message_id, channel, recipient, subject, header_id, in_reply_to, refs, attempts, \
                         COALESCE(body, (SELECT m.body FROM messages m WHERE m.tenant_id = outbox.tenant_id AND m.id = outbox.message_id), '') AS body",
                    )
                    .bind(until)
                    .bind(id)
                    .bind(now_ms)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    if let Some(row) = row {
                        claimed.push(row.into_item()?);
                    }
                }
                tx.commit().await.map_err(db_err)?;
                Ok(claimed)
            }

            async fn outbox_sent(&self, ids: &[i64], at: Timestamp) -> Result<()> {
                if ids.is_empty() {
                    return Ok(());
                }
                let mut tx = self.pool.begin().await.map_err(db_err)?;
                for id in ids {
                    sqlx::query("UPDATE outbox SET status = 'sent', sent_at = $1, last_error = NULL WHERE id = $2")
                        .bind(at.as_millisecond())
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(())
            }

            async fn outbox_delivery_report(&self, tenant: i64, id: i64, delivered: bool, report: &str, at: Timestamp) -> Result<()> {
                let (status, delivered_at, error) = if delivered {
                    ("delivered", Some(at.as_millisecond()), None)
                } else {
                    ("undelivered", None, Some(report))
                };
                let done = sqlx::query(
                    "UPDATE outbox SET status = $1, delivered_at = $2, last_error = $3 WHERE tenant_id = $4 AND id = $5 AND status IN ('sent', 'delivered', 'undelivered')",
                )
                .bind(status)
                .bind(delivered_at)
                .bind(error)
                .bind(tenant)
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("sent message"));
                }
                Ok(())
            }

            async fn outbox_retry(&self, id: i64, next_at: Timestamp, error: &str) -> Result<()> {
                sqlx::query("UPDATE outbox SET next_attempt_at = $1, lease_until = 0, last_error = $2 WHERE id = $3 AND status = 'pending'")
                    .bind(next_at.as_millisecond())
                    .bind(error)
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn outbox_failed(&self, id: i64, error: &str) -> Result<()> {
                sqlx::query("UPDATE outbox SET status = 'failed', last_error = $1 WHERE id = $2")
                    .bind(error)
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn deliveries(&self, tenant: i64, inquiry_id: i64) -> Result<Vec<(i64, DeliveryState)>> {
                let rows: Vec<(i64, String, i64, Option<String>, Option<i64>, Option<i64>)> = sqlx::query_as(
                    "SELECT message_id, status, attempts, last_error, sent_at, delivered_at FROM outbox WHERE tenant_id = $1 AND inquiry_id = $2 AND message_id IS NOT NULL ORDER BY id",
                )
                .bind(tenant)
                .bind(inquiry_id)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(rows
                    .into_iter()
                    .map(|(message_id, status, attempts, last_error, sent_at, delivered_at)| {
                        let state = match (status.as_str(), sent_at) {
                            ("delivered", _) => DeliveryState::Delivered { at: ts(delivered_at.or(sent_at).unwrap_or_default()) },
                            ("undelivered", _) => DeliveryState::Undelivered { report: last_error.unwrap_or_default() },
                            ("sent", Some(at)) => DeliveryState::Sent { at: ts(at) },
                            ("failed", _) => DeliveryState::Failed { attempts, error: last_error.unwrap_or_default() },
                            _ => DeliveryState::Pending { attempts, last_error },
                        };
                        (message_id, state)
                    })
                    .collect())
            }

            async fn revoke_follow_token(&self, tenant: i64, id: i64) -> Result<()> {
                // No token hashes to the empty string, so the link matches nothing any more.
                let changed = sqlx::query("UPDATE inquiries SET follow_token_hash = '' WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant)
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                if changed.rows_affected() == 0 {
                    return Err(StoreError::NotFound("inquiry"));
                }
                Ok(())
            }

            async fn list_inquiries(&self, tenant: i64, filter: &InquiryFilter, after: Option<&Cursor>, limit: u32) -> Result<Vec<InquirySummary>> {
                let mut q: QueryBuilder<$db> = QueryBuilder::new(format!("SELECT {SUMMARY_COLUMNS} FROM inquiries WHERE tenant_id = "));
                q.push_bind(tenant);
                match filter.status {
                    // Written literally so that the partial "open" indexes apply.
                    StatusFilter::NotClosed => {
                        q.push(" AND status <> 'closed'");
                    }
                    StatusFilter::Only(s) => {
                        q.push(" AND status = ").push_bind(s.as_str());
                    }
                    StatusFilter::Any => {}
                }
                if let Some(u) = filter.unit_id {
                    q.push(" AND unit_id = ").push_bind(u);
                }
                if let Some(units) = &filter.visible_units {
                    if units.is_empty() {
                        return Ok(Vec::new());
                    }
                    q.push(" AND unit_id IN (");
                    let mut list = q.separated(", ");
                    for u in units {
                        list.push_bind(*u);
                    }
                    q.push(")");
                }
                if let Some(c) = filter.channel {
                    q.push(" AND channel = ").push_bind(c.as_str());
                }
                if let Some(a) = filter.assignee_id {
                    q.push(" AND assignee_id = ").push_bind(a);
                }
                if let Some(s) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                    let pattern = format!("%{}%", $crate::like_escape(&s.to_lowercase()));
                    q.push(" AND (reference = ").push_bind(s.to_string());
                    q.push(" OR LOWER(citizen_name) LIKE ").push_bind(pattern.clone()).push(" ESCAPE '\\'");
                    q.push(" OR LOWER(COALESCE(contact_email, '')) LIKE ").push_bind(pattern.clone()).push(" ESCAPE '\\'");
                    q.push(" OR COALESCE(contact_phone, '') LIKE ").push_bind(pattern.clone()).push(" ESCAPE '\\'");
                    q.push(" OR LOWER(COALESCE(subject, '')) LIKE ").push_bind(pattern.clone()).push(" ESCAPE '\\'");
                    q.push(" OR EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = inquiries.tenant_id AND m.inquiry_id = inquiries.id AND LOWER(m.body) LIKE ")
                        .push_bind(pattern)
                        .push(" ESCAPE '\\'))");
                }
                if let Some(c) = after {
                    q.push(" AND (deadline_at, received_at, id) > (").push_bind(c.deadline_at);
                    q.push(", ").push_bind(c.received_at);
                    q.push(", ").push_bind(c.id).push(")");
                }
                q.push(" ORDER BY deadline_at, received_at, id LIMIT ").push_bind(i64::from(limit));
                let rows: Vec<SummaryRow> = q.build_query_as().fetch_all(&self.pool).await.map_err(db_err)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn count_inquiries(&self, tenant: i64) -> Result<i64> {
                sqlx::query_scalar("SELECT COUNT(*) FROM inquiries WHERE tenant_id = $1")
                    .bind(tenant)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(db_err)
            }

            async fn messages(&self, tenant: i64, inquiry_id: i64, include_notes: bool) -> Result<Vec<Message>> {
                let rows: Vec<MessageRow> = sqlx::query_as(
                    "SELECT id, inquiry_id, kind, author_user_id, author_name, body, created_at FROM messages \
                     WHERE tenant_id = $1 AND inquiry_id = $2 AND (kind <> 'note' OR $3 = 1) ORDER BY id",
                )
                .bind(tenant)
                .bind(inquiry_id)
                .bind(i64::from(include_notes))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                let mut by_message: HashMap<i64, Vec<AttachmentMeta>> = HashMap::new();
                for a in self.attachments(tenant, inquiry_id).await? {
                    by_message.entry(a.message_id).or_default().push(a);
                }
                rows.into_iter()
                    .map(|r| {
                        let atts = by_message.remove(&r.id).unwrap_or_default();
                        r.into_message(atts)
                    })
                    .collect()
            }

            async fn journal_numbers(&self, tenant: i64, wanted: &[(i64, i16)]) -> Result<HashMap<i64, u64>> {
                let mut tx = self.pool.begin_with($begin_write).await.map_err(db_err)?;
                // Exports of one municipality number in turn.
                sqlx::query($lock_journal).bind(tenant).execute(&mut *tx).await.map_err(db_err)?;
                let mut numbers: HashMap<i64, u64> = HashMap::new();
                for chunk in wanted.chunks(500) {
                    let mut q: QueryBuilder<$db> =
                        QueryBuilder::new("SELECT message_id, sequence FROM journal_numbers WHERE tenant_id = ");
                    q.push_bind(tenant).push(" AND message_id IN (");
                    let mut list = q.separated(", ");
                    for (id, _) in chunk {
                        list.push_bind(*id);
                    }
                    list.push_unseparated(")");
                    let rows: Vec<(i64, i64)> = q.build_query_as().fetch_all(&mut *tx).await.map_err(db_err)?;
                    numbers.extend(rows.into_iter().map(|(id, n)| (id, n as u64)));
                }
                let mut last: HashMap<i16, i64> = HashMap::new();
                let mut new: Vec<(i64, i16, i64)> = Vec::new();
                for &(id, year) in wanted {
                    if numbers.contains_key(&id) {
                        continue;
                    }
                    let n = match last.get(&year) {
                        Some(n) => *n,
                        None => sqlx::query_scalar::<_, i64>(
                            "SELECT COALESCE(MAX(sequence), 0) FROM journal_numbers WHERE tenant_id = $1 AND year = $2",
                        )
                        .bind(tenant)
                        .bind(i32::from(year))
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db_err)?,
                    } + 1;
                    last.insert(year, n);
                    numbers.insert(id, n as u64);
                    new.push((id, year, n));
                }
                for chunk in new.chunks(500) {
                    let mut q: QueryBuilder<$db> =
                        QueryBuilder::new("INSERT INTO journal_numbers (tenant_id, message_id, year, sequence) ");
                    q.push_values(chunk, |mut row, (id, year, n)| {
                        row.push_bind(tenant).push_bind(*id).push_bind(i32::from(*year)).push_bind(*n);
                    });
                    q.build().execute(&mut *tx).await.map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(numbers)
            }

            async fn threads(&self, tenant: i64, inquiry_ids: &[i64]) -> Result<HashMap<i64, Vec<Message>>> {
                let mut by_inquiry: HashMap<i64, Vec<Message>> = HashMap::new();
                // Bounded statements: a page is far below this, and both databases take it.
                for ids in inquiry_ids.chunks(500) {
                    let in_ids = |q: &mut QueryBuilder<$db>| {
                        q.push(" AND inquiry_id IN (");
                        let mut list = q.separated(", ");
                        for id in ids {
                            list.push_bind(*id);
                        }
                        list.push_unseparated(")");
                    };
                    let mut q: QueryBuilder<$db> = QueryBuilder::new(
                        "SELECT id, inquiry_id, kind, author_user_id, author_name, body, created_at FROM messages WHERE tenant_id = ",
                    );
                    q.push_bind(tenant);
                    in_ids(&mut q);
                    q.push(" AND kind <> 'note' ORDER BY inquiry_id, id");
                    let messages: Vec<MessageRow> = q.build_query_as().fetch_all(&self.pool).await.map_err(db_err)?;
                    let mut q: QueryBuilder<$db> = QueryBuilder::new(
                        "SELECT id, inquiry_id, message_id, filename, content_type, size FROM attachments WHERE tenant_id = ",
                    );
                    q.push_bind(tenant);
                    in_ids(&mut q);
                    q.push(" ORDER BY id");
                    let attachments: Vec<AttachmentRow> = q.build_query_as().fetch_all(&self.pool).await.map_err(db_err)?;
                    by_inquiry.extend(group_threads(messages, attachments)?);
                }
                Ok(by_inquiry)
            }

            async fn add_message(&self, tenant: i64, inquiry_id: i64, new: NewMessage, audit: Option<torg_domain::audit::NewAuditEntry>) -> Result<Message> {
                let mut tx = self.pool.begin_with($begin_write).await.map_err(db_err)?;
                let current: Option<(String, Option<i64>)> =
                    sqlx::query_as("SELECT status, first_answer_at FROM inquiries WHERE tenant_id = $1 AND id = $2")
                        .bind(tenant)
                        .bind(inquiry_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db_err)?;
                let Some((status, first_answer_at)) = current else {
                    return Err(StoreError::NotFound("inquiry"));
                };
                let status: InquiryStatus = status.parse().map_err(|_| StoreError::Database(format!("unknown status {status:?}")))?;
                let at = new.created_at.as_millisecond();
                let id = insert_message_row(&mut tx, tenant, inquiry_id, &new, at).await?;
                if let Some(out) = &new.outgoing {
                    insert_outgoing(&mut tx, tenant, Some(inquiry_id), Some(id), out, at, None).await?;
                }
                let attachments = insert_attachments(&mut tx, tenant, inquiry_id, id, &new.attachments).await?;
                let (next, first_answer) = match new.kind {
                    MessageKind::Inbound => (status.after_citizen_message(), first_answer_at),
                    MessageKind::Outbound => (status.after_staff_reply(), first_answer_at.or(Some(at))),
                    // Notes and the automatic acknowledgement are not answers.
                    MessageKind::Note | MessageKind::Acknowledgement => (status, first_answer_at),
                };
                sqlx::query(
                    "UPDATE inquiries SET status = $1, first_answer_at = $2, updated_at = $3, \
                     closed_at = CASE WHEN $1 = 'closed' THEN closed_at ELSE NULL END WHERE tenant_id = $4 AND id = $5",
                )
                .bind(next.as_str())
                .bind(first_answer)
                .bind(at)
                .bind(tenant)
                .bind(inquiry_id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                if let Some(entry) = audit {
                    insert_audit(&mut tx, tenant, entry, new.created_at).await?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(Message {
                    id,
                    inquiry_id,
                    kind: new.kind,
                    author_user_id: new.author_user_id,
                    author_name: new.author_name,
                    body: new.body,
                    created_at: ts(at),
                    attachments,
                })
            }

            async fn assign(&self, tenant: i64, inquiry_id: i64, unit_id: i64, assignee_id: Option<i64>, audit: Option<torg_domain::audit::NewAuditEntry>) -> Result<()> {
                let mut tx = self.pool.begin_with($begin_write).await.map_err(db_err)?;
                require_in_tenant(&mut *tx, Owned::Unit, tenant, unit_id).await?;
                if let Some(user) = assignee_id {
                    require_in_tenant(&mut *tx, Owned::User, tenant, user).await?;
                }
                let done = sqlx::query("UPDATE inquiries SET unit_id = $1, assignee_id = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5")
                    .bind(unit_id)
                    .bind(assignee_id)
                    .bind(Timestamp::now().as_millisecond())
                    .bind(tenant)
                    .bind(inquiry_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("inquiry"));
                }
                if let Some(entry) = audit {
                    insert_audit(&mut tx, tenant, entry, Timestamp::now()).await?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(())
            }

            async fn take_over(&self, tenant: i64, inquiry_id: i64, user_id: i64, at: Timestamp, audit: torg_domain::audit::NewAuditEntry) -> Result<()> {
                let mut tx = self.pool.begin_with($begin_write).await.map_err(db_err)?;
                require_in_tenant(&mut *tx, Owned::User, tenant, user_id).await?;
                let done = sqlx::query(
                    "UPDATE inquiries SET assignee_id = $1, updated_at = $2, \
                     status = CASE WHEN status = 'new' THEN 'open' ELSE status END WHERE tenant_id = $3 AND id = $4",
                )
                .bind(user_id)
                .bind(at.as_millisecond())
                .bind(tenant)
                .bind(inquiry_id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("inquiry"));
                }
                insert_audit(&mut tx, tenant, audit, at).await?;
                tx.commit().await.map_err(db_err)?;
                Ok(())
            }

            async fn set_status(&self, tenant: i64, inquiry_id: i64, status: InquiryStatus, at: Timestamp, audit: Option<torg_domain::audit::NewAuditEntry>) -> Result<()> {
                let mut tx = self.pool.begin_with($begin_write).await.map_err(db_err)?;
                let at_ms = at.as_millisecond();
                let closed_at = (status == InquiryStatus::Closed).then_some(at_ms);
                let done = sqlx::query("UPDATE inquiries SET status = $1, closed_at = $2, updated_at = $3 WHERE tenant_id = $4 AND id = $5")
                    .bind(status.as_str())
                    .bind(closed_at)
                    .bind(at_ms)
                    .bind(tenant)
                    .bind(inquiry_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("inquiry"));
                }
                if let Some(entry) = audit {
                    insert_audit(&mut tx, tenant, entry, at).await?;
                }
                tx.commit().await.map_err(db_err)?;
                Ok(())
            }

            async fn attachments(&self, tenant: i64, inquiry_id: i64) -> Result<Vec<AttachmentMeta>> {
                let rows: Vec<AttachmentRow> = sqlx::query_as(
                    "SELECT id, inquiry_id, message_id, filename, content_type, size FROM attachments WHERE tenant_id = $1 AND inquiry_id = $2 ORDER BY id",
                )
                .bind(tenant)
                .bind(inquiry_id)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn attachment_data(&self, tenant: i64, attachment_id: i64) -> Result<Option<(AttachmentMeta, Vec<u8>)>> {
                let row: Option<(i64, i64, i64, String, String, i64, Vec<u8>)> = sqlx::query_as(
                    "SELECT id, inquiry_id, message_id, filename, content_type, size, data FROM attachments WHERE tenant_id = $1 AND id = $2",
                )
                .bind(tenant)
                .bind(attachment_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(row.map(|(id, inquiry_id, message_id, filename, content_type, size, data)| {
                    (AttachmentMeta { id, inquiry_id, message_id, filename, content_type, size }, data)
                }))
            }

            async fn set_archive_record(&self, tenant: i64, r: &ArchiveRecord) -> Result<()> {
                sqlx::query(
                    "INSERT INTO archive_decisions (tenant_id, inquiry_id, decision, reasons, decided_by, decided_at, screening_basis, screen_names, public_title) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (tenant_id, inquiry_id) DO UPDATE SET \
                     decision = excluded.decision, reasons = excluded.reasons, decided_by = excluded.decided_by, decided_at = excluded.decided_at, \
                     screening_basis = excluded.screening_basis, screen_names = excluded.screen_names, public_title = excluded.public_title",
                )
                .bind(tenant)
                .bind(r.inquiry_id)
                .bind(r.decision.as_str())
                .bind(&r.reasons)
                .bind(r.decided_by)
                .bind(r.decided_at.as_millisecond())
                .bind(r.screening.basis.map(|b| b.as_str()))
                .bind(i64::from(r.screening.names))
                .bind(r.screening.public_title.as_deref())
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn archive_record(&self, tenant: i64, inquiry_id: i64) -> Result<Option<ArchiveRecord>> {
                let row: Option<ArchiveRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {ARCHIVE_COLUMNS} FROM archive_decisions WHERE tenant_id = $1 AND inquiry_id = $2"
                )))
                .bind(tenant)
                .bind(inquiry_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
                row.map(TryInto::try_into).transpose()
            }

            async fn archive_cases(&self, tenant: i64, from: Timestamp, to: Timestamp, after_id: i64, limit: u32) -> Result<Vec<ArchiveCase>> {
                let inquiries: Vec<InquiryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {INQUIRY_COLUMNS} FROM inquiries WHERE tenant_id = $1 AND received_at >= $2 AND received_at < $3 AND id > $4 \
                     AND id IN (SELECT inquiry_id FROM archive_decisions WHERE tenant_id = $1 AND decision = 'archive') ORDER BY id LIMIT $5"
                )))
                .bind(tenant)
                .bind(from.as_millisecond())
                .bind(to.as_millisecond())
                .bind(after_id)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                let (Some(first), Some(last)) = (inquiries.first().map(|i| i.id()), inquiries.last().map(|i| i.id())) else {
                    return Ok(Vec::new());
                };
                // One query each for the page's records, messages and attachments.
                let in_range = "tenant_id = $1 AND inquiry_id >= $2 AND inquiry_id <= $3 \
                     AND inquiry_id IN (SELECT inquiry_id FROM archive_decisions WHERE tenant_id = $1 AND decision = 'archive')";
                let records: Vec<ArchiveRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {ARCHIVE_COLUMNS} FROM archive_decisions WHERE tenant_id = $1 AND inquiry_id >= $2 AND inquiry_id <= $3"
                )))
                .bind(tenant)
                .bind(first)
                .bind(last)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                let messages: Vec<MessageRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT id, inquiry_id, kind, author_user_id, author_name, body, created_at FROM messages \
                     WHERE {in_range} AND kind IN ('inbound', 'outbound') ORDER BY inquiry_id, id"
                )))
                .bind(tenant)
                .bind(first)
                .bind(last)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                let attachments: Vec<AttachmentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT id, inquiry_id, message_id, filename, content_type, size FROM attachments WHERE {in_range} ORDER BY id"
                )))
                .bind(tenant)
                .bind(first)
                .bind(last)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                let mut records = records
                    .into_iter()
                    .map(|r| ArchiveRecord::try_from(r).map(|r| (r.inquiry_id, r)))
                    .collect::<Result<HashMap<i64, ArchiveRecord>>>()?;
                let mut by_inquiry = group_threads(messages, attachments)?;
                inquiries
                    .into_iter()
                    .filter_map(|row| {
                        let id = row.id();
                        let record = records.remove(&id)?;
                        Some(Inquiry::try_from(row).map(|inquiry| ArchiveCase {
                            inquiry,
                            record,
                            messages: by_inquiry.remove(&id).unwrap_or_default(),
                        }))
                    })
                    .collect()
            }

            async fn count_archive_cases(&self, tenant: i64, from: Timestamp, to: Timestamp) -> Result<i64> {
                let (n,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM inquiries WHERE tenant_id = $1 AND received_at >= $2 AND received_at < $3 \
                     AND id IN (SELECT inquiry_id FROM archive_decisions WHERE tenant_id = $1 AND decision = 'archive')",
                )
                .bind(tenant)
                .bind(from.as_millisecond())
                .bind(to.as_millisecond())
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(n)
            }

            async fn journal_entries(&self, tenant: i64, from: Timestamp, to: Timestamp, limit: u32) -> Result<Vec<JournalEntry>> {
                type Row = (i64, i64, i64, i64, String, i64, Option<String>, Option<String>, String, String, i64, String, i64, Option<String>, i64, Option<String>);
                let rows: Vec<Row> = sqlx::query_as(
                    "SELECT m.id, m.inquiry_id, i.ref_year, i.ref_number, m.kind, m.created_at, i.subject, i.topic, i.preview, i.citizen_name, i.unit_id, \
                     m.author_name, (SELECT COUNT(*) FROM attachments t WHERE t.tenant_id = m.tenant_id AND t.message_id = m.id), \
                     a.screening_basis, a.screen_names, a.public_title \
                     FROM messages m JOIN inquiries i ON i.tenant_id = m.tenant_id AND i.id = m.inquiry_id \
                     JOIN archive_decisions a ON a.tenant_id = m.tenant_id AND a.inquiry_id = m.inquiry_id AND a.decision = 'archive' \
                     WHERE m.tenant_id = $1 AND m.created_at >= $2 AND m.created_at < $3 AND m.kind IN ('inbound', 'outbound') \
                     ORDER BY m.created_at DESC, m.id DESC LIMIT $4",
                )
                .bind(tenant)
                .bind(from.as_millisecond())
                .bind(to.as_millisecond())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                rows.into_iter()
                    .map(|(message_id, inquiry_id, year, number, kind, created_at, subject, topic, preview, citizen_name, unit_id, author_name, attachments, basis, names, public_title)| {
                        Ok(JournalEntry {
                            message_id,
                            inquiry_id,
                            reference: Reference { year: year as i16, number },
                            kind: kind.parse().map_err(StoreError::Database)?,
                            date: ts(created_at),
                            subject,
                            topic,
                            preview,
                            citizen_name,
                            unit_id,
                            author_name,
                            attachments,
                            screening: torg_domain::archive::Screening {
                                basis: basis.as_deref().map(|b| b.parse()).transpose().map_err(|e: torg_domain::archive::ArchiveError| StoreError::Database(e.to_string()))?,
                                names: names != 0,
                                public_title,
                            },
                        })
                    })
                    .collect()
            }

            async fn undecided_closed(&self, tenant: i64, limit: u32) -> Result<Vec<InquirySummary>> {
                let rows: Vec<SummaryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {SUMMARY_COLUMNS} FROM inquiries WHERE tenant_id = $1 AND status = 'closed' \
                     AND id NOT IN (SELECT inquiry_id FROM archive_decisions WHERE tenant_id = $1) ORDER BY received_at DESC, id DESC LIMIT $2"
                )))
                .bind(tenant)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }

            async fn moderation_keywords(&self, tenant: i64) -> Result<Vec<String>> {
                let rows: Vec<(String,)> = sqlx::query_as("SELECT word FROM moderation_keywords WHERE tenant_id = $1 ORDER BY word")
                    .bind(tenant)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(rows.into_iter().map(|(w,)| w).collect())
            }

            async fn set_moderation_keywords(&self, tenant: i64, words: &[String]) -> Result<()> {
                let mut tx = self.pool.begin_with($begin_write).await.map_err(db_err)?;
                sqlx::query("DELETE FROM moderation_keywords WHERE tenant_id = $1")
                    .bind(tenant)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                for w in words {
                    sqlx::query("INSERT INTO moderation_keywords (tenant_id, word) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(tenant)
                        .bind(w)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                tx.commit().await.map_err(db_err)
            }

            async fn retention_days(&self, tenant: i64) -> Result<u32> {
                let row: Option<(i64,)> = sqlx::query_as("SELECT retention_days FROM municipalities WHERE id = $1")
                    .bind(tenant)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_err)?;
                let (days,) = row.ok_or(StoreError::NotFound("municipality"))?;
                Ok(u32::try_from(days).unwrap_or(365))
            }

            async fn set_retention_days(&self, tenant: i64, days: u32) -> Result<()> {
                let done = sqlx::query("UPDATE municipalities SET retention_days = $2 WHERE id = $1")
                    .bind(tenant)
                    .bind(i64::from(days))
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("municipality"));
                }
                Ok(())
            }

            async fn retention_candidates(&self, tenant: i64, closed_before: Timestamp, after_id: i64, limit: u32) -> Result<Vec<RetentionCandidate>> {
                #[allow(clippy::type_complexity)]
                let rows: Vec<(i64, i64, Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
                    "SELECT i.id, i.closed_at, a.decision, i.topic, i.subject FROM inquiries i \
                     LEFT JOIN archive_decisions a ON a.tenant_id = i.tenant_id AND a.inquiry_id = i.id \
                     WHERE i.tenant_id = $1 AND i.status = 'closed' AND i.closed_at < $2 AND i.id > $3 \
                     AND (a.decision IS NULL OR a.decision <> 'archive') ORDER BY i.id LIMIT $4",
                )
                .bind(tenant)
                .bind(closed_before.as_millisecond())
                .bind(after_id)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                rows.into_iter()
                    .map(|(id, closed_at, decision, topic, subject)| {
                        Ok(RetentionCandidate {
                            id,
                            closed_at: ts(closed_at),
                            topic,
                            subject,
                            decision: decision
                                .as_deref()
                                .map(str::parse)
                                .transpose()
                                .map_err(|e: torg_domain::archive::ArchiveError| StoreError::Database(e.to_string()))?,
                        })
                    })
                    .collect()
            }

            async fn delete_inquiries(&self, tenant: i64, ids: &[i64], reason: &str, at: Timestamp) -> Result<Vec<DeletionRecord>> {
                let mut tx = self.pool.begin_with($begin_write).await.map_err(db_err)?;
                let mut deleted = Vec::new();
                for &id in ids {
                    let row: Option<(i64, i64, String, i64, Option<i64>, i64, i64)> = sqlx::query_as(
                        "SELECT i.ref_year, i.ref_number, i.channel, i.received_at, i.closed_at, \
                         (SELECT COUNT(*) FROM messages m WHERE m.tenant_id = i.tenant_id AND m.inquiry_id = i.id), \
                         (SELECT COUNT(*) FROM attachments t WHERE t.tenant_id = i.tenant_id AND t.inquiry_id = i.id) \
                         FROM inquiries i WHERE i.tenant_id = $1 AND i.id = $2 \
                         AND NOT EXISTS (SELECT 1 FROM archive_decisions a WHERE a.tenant_id = i.tenant_id AND a.inquiry_id = i.id AND a.decision = 'archive')",
                    )
                    .bind(tenant)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    let Some((year, number, channel, received_at, closed_at, messages, attachments)) = row else {
                        continue;
                    };
                    for table in ["outbox", "attachments", "messages", "archive_decisions"] {
                        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE tenant_id = $1 AND inquiry_id = $2")))
                            .bind(tenant)
                            .bind(id)
                            .execute(&mut *tx)
                            .await
                            .map_err(db_err)?;
                    }
                    sqlx::query("DELETE FROM inquiries WHERE tenant_id = $1 AND id = $2")
                        .bind(tenant)
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    let record = DeletionRecord {
                        reference: Reference { year: year as i16, number }.to_string(),
                        channel: channel.parse().map_err(|e: torg_domain::channel::UnknownChannel| StoreError::Database(e.to_string()))?,
                        received_at: ts(received_at),
                        closed_at: closed_at.map(ts),
                        deleted_at: at,
                        messages,
                        attachments,
                        reason: reason.to_string(),
                    };
                    sqlx::query(
                        "INSERT INTO deletion_log (tenant_id, reference, channel, received_at, closed_at, deleted_at, messages, attachments, reason) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(tenant)
                    .bind(&record.reference)
                    .bind(record.channel.as_str())
                    .bind(received_at)
                    .bind(closed_at)
                    .bind(at.as_millisecond())
                    .bind(messages)
                    .bind(attachments)
                    .bind(reason)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    deleted.push(record);
                }
                tx.commit().await.map_err(db_err)?;
                Ok(deleted)
            }

            async fn deletion_log(&self, tenant: i64, limit: u32) -> Result<Vec<DeletionRecord>> {
                let rows: Vec<DeletionRow> = sqlx::query_as(
                    "SELECT reference, channel, received_at, closed_at, deleted_at, messages, attachments, reason FROM deletion_log \
                     WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(tenant)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                rows.into_iter().map(TryInto::try_into).collect()
            }
        }
    };
}
