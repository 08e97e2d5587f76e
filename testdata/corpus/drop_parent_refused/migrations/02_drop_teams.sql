-- teams are gone from the product
DROP TABLE teams;
