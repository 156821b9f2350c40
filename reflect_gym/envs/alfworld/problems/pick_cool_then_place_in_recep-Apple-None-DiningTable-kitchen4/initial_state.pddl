(define (problem plan_pick_cool_then_place_in_recep-Apple-None-DiningTable-kitchen4)
(:domain alfred)
(:objects
agent1 - agent
        AppleType - otype
        BowlType - otype
        BreadType - otype
        ButterKnifeType - otype
        KnifeType - otype
        LettuceType - otype
        PanType - otype
        PepperShakerType - otype
        PlateType - otype
        SpoonType - otype
        CabinetType - rtype
        CounterTopType - rtype
        DiningTableType - rtype
        DrawerType - rtype
        FridgeType - rtype
        GarbageCanType - rtype
        MicrowaveType - rtype
        SinkBasinType - rtype
        StoveBurnerType - rtype
        Bread_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10 - object
        Knife_bar__plus_08_dot_32_bar__plus_00_dot_90_bar__plus_07_dot_53 - object
        Apple_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96 - object
        PepperShaker_bar__plus_09_dot_83_bar__plus_01_dot_00_bar__plus_08_dot_39 - object
        Bowl_bar__plus_09_dot_32_bar__plus_00_dot_90_bar__plus_08_dot_82 - object
        Lettuce_bar__plus_10_dot_02_bar__plus_00_dot_95_bar__plus_09_dot_25 - object
        Plate_bar__plus_10_dot_17_bar__plus_01_dot_00_bar__plus_09_dot_68 - object
        Pan_bar__plus_10_dot_32_bar__plus_00_dot_90_bar__plus_10_dot_11 - object
        Spoon_bar__plus_10_dot_91_bar__plus_00_dot_95_bar__plus_10_dot_54 - object
        DiningTable_bar__plus_01_dot_21_bar__plus_00_dot_90_bar__minus_01_dot_50 - receptacle
        CounterTop_bar__plus_01_dot_47_bar__plus_00_dot_95_bar__minus_01_dot_07 - receptacle
        CounterTop_bar__plus_01_dot_84_bar__plus_01_dot_00_bar__minus_00_dot_64 - receptacle
        Cabinet_bar__plus_01_dot_88_bar__plus_00_dot_90_bar__minus_00_dot_21 - receptacle
        Fridge_bar__plus_02_dot_14_bar__plus_00_dot_95_bar__plus_00_dot_22 - receptacle
        Microwave_bar__plus_02_dot_84_bar__plus_01_dot_00_bar__plus_00_dot_65 - receptacle
        Sink_bar__plus_02_dot_66_bar__plus_00_dot_90_bar__plus_01_dot_08_bar_SinkBasin - receptacle
        StoveBurner_bar__plus_03_dot_80_bar__plus_00_dot_95_bar__plus_01_dot_51 - receptacle
        GarbageCan_bar__plus_04_dot_06_bar__plus_01_dot_00_bar__plus_01_dot_94 - receptacle
        Drawer_bar__plus_03_dot_99_bar__plus_00_dot_90_bar__plus_02_dot_37 - receptacle
        loc_bar_0_bar_6_bar_3_bar__minus_15 - location
        loc_bar_0_bar__minus_4_bar_0_bar__minus_30 - location
        loc_bar_1_bar__minus_1_bar_1_bar__minus_15 - location
        loc_bar_1_bar__minus_2_bar_0_bar_0 - location
        loc_bar_2_bar_1_bar_1_bar_15 - location
        loc_bar_2_bar_2_bar_2_bar_0 - location
        loc_bar_3_bar_5_bar_3_bar_15 - location
        loc_bar_4_bar__minus_3_bar_0_bar_30 - location
        loc_bar_5_bar_0_bar_1_bar_45 - location
        loc_bar_6_bar_3_bar_2_bar__minus_30 - location
        loc_bar__minus_1_bar_5_bar_0_bar_30 - location
        )

(:init

        (receptacleType DiningTable_bar__plus_01_dot_21_bar__plus_00_dot_90_bar__minus_01_dot_50 DiningTableType)
        (receptacleType CounterTop_bar__plus_01_dot_47_bar__plus_00_dot_95_bar__minus_01_dot_07 CounterTopType)
        (receptacleType CounterTop_bar__plus_01_dot_84_bar__plus_01_dot_00_bar__minus_00_dot_64 CounterTopType)
        (receptacleType Cabinet_bar__plus_01_dot_88_bar__plus_00_dot_90_bar__minus_00_dot_21 CabinetType)
        (receptacleType Fridge_bar__plus_02_dot_14_bar__plus_00_dot_95_bar__plus_00_dot_22 FridgeType)
        (receptacleType Microwave_bar__plus_02_dot_84_bar__plus_01_dot_00_bar__plus_00_dot_65 MicrowaveType)
        (receptacleType Sink_bar__plus_02_dot_66_bar__plus_00_dot_90_bar__plus_01_dot_08_bar_SinkBasin SinkBasinType)
        (receptacleType StoveBurner_bar__plus_03_dot_80_bar__plus_00_dot_95_bar__plus_01_dot_51 StoveBurnerType)
        (receptacleType GarbageCan_bar__plus_04_dot_06_bar__plus_01_dot_00_bar__plus_01_dot_94 GarbageCanType)
        (receptacleType Drawer_bar__plus_03_dot_99_bar__plus_00_dot_90_bar__plus_02_dot_37 DrawerType)
        (objectType Bread_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10 BreadType)
        (objectType Knife_bar__plus_08_dot_32_bar__plus_00_dot_90_bar__plus_07_dot_53 KnifeType)
        (objectType Apple_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96 AppleType)
        (objectType PepperShaker_bar__plus_09_dot_83_bar__plus_01_dot_00_bar__plus_08_dot_39 PepperShakerType)
        (objectType Bowl_bar__plus_09_dot_32_bar__plus_00_dot_90_bar__plus_08_dot_82 BowlType)
        (objectType Lettuce_bar__plus_10_dot_02_bar__plus_00_dot_95_bar__plus_09_dot_25 LettuceType)
        (objectType Plate_bar__plus_10_dot_17_bar__plus_01_dot_00_bar__plus_09_dot_68 PlateType)
        (objectType Pan_bar__plus_10_dot_32_bar__plus_00_dot_90_bar__plus_10_dot_11 PanType)
        (objectType Spoon_bar__plus_10_dot_91_bar__plus_00_dot_95_bar__plus_10_dot_54 SpoonType)
        (canContain CabinetType BowlType)
        (canContain CabinetType PanType)
        (canContain CabinetType PepperShakerType)
        (canContain CabinetType PlateType)
        (canContain CounterTopType AppleType)
        (canContain CounterTopType BowlType)
        (canContain CounterTopType BreadType)
        (canContain CounterTopType KnifeType)
        (canContain CounterTopType LettuceType)
        (canContain CounterTopType PanType)
        (canContain CounterTopType PepperShakerType)
        (canContain CounterTopType PlateType)
        (canContain CounterTopType SpoonType)
        (canContain DiningTableType AppleType)
        (canContain DiningTableType BowlType)
        (canContain DiningTableType BreadType)
        (canContain DiningTableType KnifeType)
        (canContain DiningTableType LettuceType)
        (canContain DiningTableType PanType)
        (canContain DiningTableType PepperShakerType)
        (canContain DiningTableType PlateType)
        (canContain DiningTableType SpoonType)
        (canContain DrawerType KnifeType)
        (canContain DrawerType PepperShakerType)
        (canContain DrawerType SpoonType)
        (canContain FridgeType AppleType)
        (canContain FridgeType BowlType)
        (canContain FridgeType BreadType)
        (canContain FridgeType LettuceType)
        (canContain FridgeType PanType)
        (canContain FridgeType PlateType)
        (canContain GarbageCanType AppleType)
        (canContain GarbageCanType BreadType)
        (canContain GarbageCanType LettuceType)
        (canContain MicrowaveType AppleType)
        (canContain MicrowaveType BowlType)
        (canContain MicrowaveType BreadType)
        (canContain MicrowaveType PlateType)
        (canContain SinkBasinType AppleType)
        (canContain SinkBasinType BowlType)
        (canContain SinkBasinType KnifeType)
        (canContain SinkBasinType LettuceType)
        (canContain SinkBasinType PanType)
        (canContain SinkBasinType PlateType)
        (canContain SinkBasinType SpoonType)
        (canContain StoveBurnerType PanType)
        (pickupable Bread_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (pickupable Knife_bar__plus_08_dot_32_bar__plus_00_dot_90_bar__plus_07_dot_53)
        (pickupable Apple_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (pickupable PepperShaker_bar__plus_09_dot_83_bar__plus_01_dot_00_bar__plus_08_dot_39)
        (pickupable Bowl_bar__plus_09_dot_32_bar__plus_00_dot_90_bar__plus_08_dot_82)
        (pickupable Lettuce_bar__plus_10_dot_02_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (pickupable Plate_bar__plus_10_dot_17_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (pickupable Pan_bar__plus_10_dot_32_bar__plus_00_dot_90_bar__plus_10_dot_11)
        (pickupable Spoon_bar__plus_10_dot_91_bar__plus_00_dot_95_bar__plus_10_dot_54)
        (isReceptacleObject Bowl_bar__plus_09_dot_32_bar__plus_00_dot_90_bar__plus_08_dot_82)
        (isReceptacleObject Plate_bar__plus_10_dot_17_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (isReceptacleObject Pan_bar__plus_10_dot_32_bar__plus_00_dot_90_bar__plus_10_dot_11)
        (openable Cabinet_bar__plus_01_dot_88_bar__plus_00_dot_90_bar__minus_00_dot_21)
        (openable Fridge_bar__plus_02_dot_14_bar__plus_00_dot_95_bar__plus_00_dot_22)
        (openable Microwave_bar__plus_02_dot_84_bar__plus_01_dot_00_bar__plus_00_dot_65)
        (openable Drawer_bar__plus_03_dot_99_bar__plus_00_dot_90_bar__plus_02_dot_37)
        (atLocation agent1 loc_bar__minus_1_bar_5_bar_0_bar_30)
        (cleanable Knife_bar__plus_08_dot_32_bar__plus_00_dot_90_bar__plus_07_dot_53)
        (cleanable Apple_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (cleanable Bowl_bar__plus_09_dot_32_bar__plus_00_dot_90_bar__plus_08_dot_82)
        (cleanable Lettuce_bar__plus_10_dot_02_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (cleanable Plate_bar__plus_10_dot_17_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (cleanable Pan_bar__plus_10_dot_32_bar__plus_00_dot_90_bar__plus_10_dot_11)
        (cleanable Spoon_bar__plus_10_dot_91_bar__plus_00_dot_95_bar__plus_10_dot_54)
        (heatable Bread_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (heatable Apple_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (heatable Plate_bar__plus_10_dot_17_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (coolable Bread_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (coolable Apple_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (coolable Bowl_bar__plus_09_dot_32_bar__plus_00_dot_90_bar__plus_08_dot_82)
        (coolable Lettuce_bar__plus_10_dot_02_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (coolable Plate_bar__plus_10_dot_17_bar__plus_01_dot_00_bar__plus_09_dot_68)
        (coolable Pan_bar__plus_10_dot_32_bar__plus_00_dot_90_bar__plus_10_dot_11)
        (sliceable Bread_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10)
        (sliceable Apple_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96)
        (sliceable Lettuce_bar__plus_10_dot_02_bar__plus_00_dot_95_bar__plus_09_dot_25)
        (inReceptacle Bread_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10 DiningTable_bar__plus_01_dot_21_bar__plus_00_dot_90_bar__minus_01_dot_50)
        (inReceptacle Knife_bar__plus_08_dot_32_bar__plus_00_dot_90_bar__plus_07_dot_53 CounterTop_bar__plus_01_dot_47_bar__plus_00_dot_95_bar__minus_01_dot_07)
        (inReceptacle Apple_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96 CounterTop_bar__plus_01_dot_84_bar__plus_01_dot_00_bar__minus_00_dot_64)
        (inReceptacle PepperShaker_bar__plus_09_dot_83_bar__plus_01_dot_00_bar__plus_08_dot_39 CounterTop_bar__plus_01_dot_84_bar__plus_01_dot_00_bar__minus_00_dot_64)
        (inReceptacle Bowl_bar__plus_09_dot_32_bar__plus_00_dot_90_bar__plus_08_dot_82 Cabinet_bar__plus_01_dot_88_bar__plus_00_dot_90_bar__minus_00_dot_21)
        (inReceptacle Lettuce_bar__plus_10_dot_02_bar__plus_00_dot_95_bar__plus_09_dot_25 Fridge_bar__plus_02_dot_14_bar__plus_00_dot_95_bar__plus_00_dot_22)
        (inReceptacle Plate_bar__plus_10_dot_17_bar__plus_01_dot_00_bar__plus_09_dot_68 Microwave_bar__plus_02_dot_84_bar__plus_01_dot_00_bar__plus_00_dot_65)
        (inReceptacle Pan_bar__plus_10_dot_32_bar__plus_00_dot_90_bar__plus_10_dot_11 StoveBurner_bar__plus_03_dot_80_bar__plus_00_dot_95_bar__plus_01_dot_51)
        (inReceptacle Spoon_bar__plus_10_dot_91_bar__plus_00_dot_95_bar__plus_10_dot_54 Drawer_bar__plus_03_dot_99_bar__plus_00_dot_90_bar__plus_02_dot_37)
        (receptacleAtLocation DiningTable_bar__plus_01_dot_21_bar__plus_00_dot_90_bar__minus_01_dot_50 loc_bar_0_bar__minus_4_bar_0_bar__minus_30)
        (receptacleAtLocation CounterTop_bar__plus_01_dot_47_bar__plus_00_dot_95_bar__minus_01_dot_07 loc_bar_1_bar__minus_1_bar_1_bar__minus_15)
        (receptacleAtLocation CounterTop_bar__plus_01_dot_84_bar__plus_01_dot_00_bar__minus_00_dot_64 loc_bar_2_bar_2_bar_2_bar_0)
        (receptacleAtLocation Cabinet_bar__plus_01_dot_88_bar__plus_00_dot_90_bar__minus_00_dot_21 loc_bar_3_bar_5_bar_3_bar_15)
        (receptacleAtLocation Fridge_bar__plus_02_dot_14_bar__plus_00_dot_95_bar__plus_00_dot_22 loc_bar_4_bar__minus_3_bar_0_bar_30)
        (receptacleAtLocation Microwave_bar__plus_02_dot_84_bar__plus_01_dot_00_bar__plus_00_dot_65 loc_bar_5_bar_0_bar_1_bar_45)
        (receptacleAtLocation Sink_bar__plus_02_dot_66_bar__plus_00_dot_90_bar__plus_01_dot_08_bar_SinkBasin loc_bar_6_bar_3_bar_2_bar__minus_30)
        (receptacleAtLocation StoveBurner_bar__plus_03_dot_80_bar__plus_00_dot_95_bar__plus_01_dot_51 loc_bar_0_bar_6_bar_3_bar__minus_15)
        (receptacleAtLocation GarbageCan_bar__plus_04_dot_06_bar__plus_01_dot_00_bar__plus_01_dot_94 loc_bar_1_bar__minus_2_bar_0_bar_0)
        (receptacleAtLocation Drawer_bar__plus_03_dot_99_bar__plus_00_dot_90_bar__plus_02_dot_37 loc_bar_2_bar_1_bar_1_bar_15)
        (objectAtLocation Bread_bar__plus_07_dot_95_bar__plus_01_dot_00_bar__plus_07_dot_10 loc_bar_0_bar__minus_4_bar_0_bar__minus_30)
        (objectAtLocation Knife_bar__plus_08_dot_32_bar__plus_00_dot_90_bar__plus_07_dot_53 loc_bar_1_bar__minus_1_bar_1_bar__minus_15)
        (objectAtLocation Apple_bar__plus_08_dot_69_bar__plus_00_dot_95_bar__plus_07_dot_96 loc_bar_2_bar_2_bar_2_bar_0)
        (objectAtLocation PepperShaker_bar__plus_09_dot_83_bar__plus_01_dot_00_bar__plus_08_dot_39 loc_bar_2_bar_2_bar_2_bar_0)
        (objectAtLocation Bowl_bar__plus_09_dot_32_bar__plus_00_dot_90_bar__plus_08_dot_82 loc_bar_3_bar_5_bar_3_bar_15)
        (objectAtLocation Lettuce_bar__plus_10_dot_02_bar__plus_00_dot_95_bar__plus_09_dot_25 loc_bar_4_bar__minus_3_bar_0_bar_30)
        (objectAtLocation Plate_bar__plus_10_dot_17_bar__plus_01_dot_00_bar__plus_09_dot_68 loc_bar_5_bar_0_bar_1_bar_45)
        (objectAtLocation Pan_bar__plus_10_dot_32_bar__plus_00_dot_90_bar__plus_10_dot_11 loc_bar_0_bar_6_bar_3_bar__minus_15)
        (objectAtLocation Spoon_bar__plus_10_dot_91_bar__plus_00_dot_95_bar__plus_10_dot_54 loc_bar_2_bar_1_bar_1_bar_15)
        )

        (:goal
            (and
                (exists (?r - receptacle)
                    (exists (?o - object)
                        (and
                            (coolable ?o)
                            (objectType ?o AppleType)
                            (receptacleType ?r DiningTableType)
                            (isCool ?o)
                            (inReceptacle ?o ?r)
                        )
                    )
                )
            )
        )
    )
