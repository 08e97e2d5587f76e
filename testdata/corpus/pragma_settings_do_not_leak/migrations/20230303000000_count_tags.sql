-- migrate:up
CREATE TRIGGER tags_count AFTER INSERT ON tags
BEGIN
  INSERT OR REPLACE INTO tag_counts (label, n)
  VALUES (new.label, coalesce((SELECT n FROM tag_counts WHERE label = new.label), 0) + 1);
END;
INSERT INTO tag_counts (label, n)
  SELECT 'go-ish', count(*) FROM tags WHERE label LIKE 'go%';
-- migrate:down
DROP TRIGGER tags_count;
