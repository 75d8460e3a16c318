{% snapshot customers_snapshot %}
{{ config(target_schema='snapshots', unique_key='customer_id', strategy='check', check_cols=['full_name']) }}
select * from {{ ref('stg_customers') }}
{% endsnapshot %}
