-- A message may be planned on an item of the annual wheel.
ALTER TABLE publications ADD COLUMN wheel_item_id BIGINT REFERENCES wheel_items(id) ON DELETE SET NULL;
