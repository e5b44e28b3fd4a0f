-- The example schema: mounted into the docker-compose postgres container
-- (/docker-entrypoint-initdb.d) and loaded by `slotline demo`. The tables match
-- source.tables in slotline.yaml.
CREATE TABLE public.products (
  id serial PRIMARY KEY,
  name text NOT NULL,
  price numeric(10,2),
  tags text[],
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE public.orders (
  id bigserial PRIMARY KEY,
  product_id int NOT NULL REFERENCES public.products(id),
  quantity int NOT NULL,
  status text NOT NULL DEFAULT 'new'
);
ALTER TABLE public.orders REPLICA IDENTITY FULL;
