-- Publishing on Facebook and Instagram: a message may carry a picture (Instagram needs one),
-- an outgoing entry the picture to post with its text, and, once the network took it, the
-- address the network gave what was posted.
ALTER TABLE publications ADD COLUMN image_url TEXT;
ALTER TABLE outbox ADD COLUMN media TEXT;
ALTER TABLE outbox ADD COLUMN external_ref TEXT;
