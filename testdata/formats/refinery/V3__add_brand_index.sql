CREATE INDEX cars_brand ON cars (brand);
