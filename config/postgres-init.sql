-- Schema for the docker-compose example (mounted into the postgres container's
-- /docker-entrypoint-initdb.d). The tables match source.tables in slotline.yaml.
CREATE TABLE public.products (
  id serial PRIMARY KEY,
  name text NOT NULL,
  price numeric(10,2),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE public.orders (
  id bigserial PRIMARY KEY,
  product_id int NOT NULL REFERENCES public.products(id),
  quantity int NOT NULL,
  status text NOT NULL DEFAULT 'new'
);
ALTER TABLE public.orders REPLICA IDENTITY FULL;
