-- How a citation names a chunk's page ("p. 7", "slide 7"); null on older rows, read as "p. N".
ALTER TABLE chunks ADD COLUMN page_label TEXT;
