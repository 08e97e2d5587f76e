-- hostile: a _migrations row whose checksum is not the code's (the migration was edited, or it is another app's database)
-- expect: refused does not match this code's migration
UPDATE _migrations SET checksum = '0000000000000000000000000000000000000000000000000000000000000000' WHERE version = 2;
