select o.id as order_id, o.customer_id, o.status, p.amount_cents / 100.0 as amount
from {{ ref('raw_orders') }} o
left join {{ source('shop_raw', 'raw_payments') }} p on p.order_id = o.id
