INSERT INTO department (code, name, region_code, updated_at) VALUES (:code, :name, :region_code, :now)
ON CONFLICT (code) DO UPDATE SET name = excluded.name, region_code = excluded.region_code, updated_at = excluded.updated_at
