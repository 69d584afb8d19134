-- Inquiries of the same matter merged by staff: the others point to the oldest, whose thread
-- shows them all and whose status and deadline stand for them all. A nullable column without
-- a default: no table rewrite, instant at national size.
ALTER TABLE inquiries ADD COLUMN merged_into BIGINT;
CREATE INDEX inquiries_merged_into ON inquiries (tenant_id, merged_into) WHERE merged_into IS NOT NULL;
